#!/usr/bin/env bash
# Builds Prometheus (cmd/prometheus and cmd/promtool) from the Go module proxy into
# .tools/prometheus-v<version>/bin, with Kubernetes service discovery: Debian's prometheus package
# (2.42.0+ds) is built without kubernetes_sd_configs, which the whole-loop test needs.
# Lean build: the `remove_all_sd` tag drops every optional service discovery (file, HTTP and static
# stay) and `enable_kubernetes_sd` adds Kubernetes back; without the `builtinassets` tag the web UI
# is not embedded (the tests use the HTTP API only).
# Cached: a second run with the same version builds nothing. Prints the prometheus binary's path on
# the last line of stdout; promtool is next to it.
set -euo pipefail

# Pinned version: the only place it is written. Module v0.316.0 is Prometheus 3.16.0 and declares
# go 1.26.7 (newer module versions may need a newer Go than the one installed here).
PROMETHEUS_MODULE_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.tools/prometheus-v$PROMETHEUS_VERSION"
bin="$out/bin"
log() { echo "build-prometheus: $*" >&2; }

if [[ -x $bin/prometheus && -x $bin/promtool ]]; then
  log "cached: $bin"
  echo "$bin/prometheus"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (or not on PATH): install Go >= 1.26.7 (https://go.dev/dl) and run this script again."
  exit 2
fi
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
module="github.com/prometheus/prometheus"
mod="$out/src"
mkdir -p "$bin" "$mod"

dir="$(cd "$mod" && go mod download -json "$module@$PROMETHEUS_MODULE_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
if [[ -z $dir ]]; then
  log "could not download $module@$PROMETHEUS_MODULE_VERSION from the Go module proxy (see the go error above)"
  exit 1
fi

started=$SECONDS
# A wrapper module whose build list is Prometheus' own (its go.mod has no replace directives).
{
  echo "module rollback-controller.test/prometheus"
  echo
  echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$dir/go.mod")"
  echo
  echo "require $module $PROMETHEUS_MODULE_VERSION"
} >"$mod/go.mod"
cat >"$mod/tools.go" <<'GO'
//go:build tools

// Keeps the Prometheus commands in this module's build list.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
GO
log "resolving Prometheus $PROMETHEUS_VERSION modules"
(cd "$mod" && go get "$module@$PROMETHEUS_MODULE_VERSION" >&2 && go mod download >&2)
version="github.com/prometheus/common/version"
for name in prometheus promtool; do
  [[ -x $bin/$name ]] && continue
  log "building $name $PROMETHEUS_VERSION (several minutes the first time on 2 cores)"
  (cd "$mod" && go build -trimpath -tags "netgo,remove_all_sd,enable_kubernetes_sd" \
    -ldflags="-s -w -X $version.Version=$PROMETHEUS_VERSION -X $version.Revision=$PROMETHEUS_MODULE_VERSION -X $version.Branch=module-proxy" \
    -o "$bin/$name.tmp" "$module/cmd/$name" && mv "$bin/$name.tmp" "$bin/$name")
  log "$name built ($((SECONDS - started)) s so far)"
done
log "done in $((SECONDS - started)) s: $bin"
echo "$bin/prometheus"
