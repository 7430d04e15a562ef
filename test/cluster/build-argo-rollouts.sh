#!/usr/bin/env bash
# Builds the real Argo Rollouts controller (cmd/rollouts-controller) from the Go module proxy into
# .tools/argo-rollouts-v<version>/bin, and copies the module's CRDs (manifests/crds) next to it.
# Cached: a second run with the same version builds nothing. Prints the tools folder on the last
# line of stdout:  <out>/bin/rollouts-controller  <out>/crds/*.yaml
# ARGO_ROLLOUTS_BIN: an existing rollouts-controller binary to use instead of building one.
set -euo pipefail

# Pinned version: the only place it is written. v1.10.2 (and v1.9.3) declare `go 1.26.10`, newer
# than the Go installed here (GOTOOLCHAIN=local refuses them); v1.10.1 declares go 1.26.1.
ARGO_ROLLOUTS_VERSION=v1.10.1

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.tools/argo-rollouts-$ARGO_ROLLOUTS_VERSION"
log() { echo "build-argo-rollouts: $*" >&2; }

if [[ -x $out/bin/rollouts-controller && -f $out/crds/.done ]]; then
  echo "$out"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (or not on PATH): install Go >= 1.26 (https://go.dev/dl) and run this script again."
  exit 2
fi
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
module="github.com/argoproj/argo-rollouts"
mod="$out/src"
mkdir -p "$out/bin" "$mod"

dir="$(cd "$mod" && go mod download -json "$module@$ARGO_ROLLOUTS_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
if [[ -z $dir ]]; then
  log "could not download $module@$ARGO_ROLLOUTS_VERSION from the Go module proxy (see the go error above)"
  exit 1
fi

if [[ ! -f $out/crds/.done ]]; then
  rm -rf "$out/crds.tmp"
  mkdir -p "$out/crds.tmp"
  cp "$dir"/manifests/crds/*-crd.yaml "$out/crds.tmp/"
  chmod u+w "$out"/crds.tmp/*
  touch "$out/crds.tmp/.done"
  rm -rf "$out/crds"
  mv "$out/crds.tmp" "$out/crds"
fi

if [[ -n ${ARGO_ROLLOUTS_BIN:-} && -x $ARGO_ROLLOUTS_BIN ]]; then
  log "using $ARGO_ROLLOUTS_BIN (ARGO_ROLLOUTS_BIN)"
  ln -sf "$ARGO_ROLLOUTS_BIN" "$out/bin/rollouts-controller"
elif [[ ! -x $out/bin/rollouts-controller ]]; then
  started=$SECONDS
  # Replace directives of a dependency are ignored by Go: the wrapper repeats the module's own
  # (k8s.io staging modules pinned to one release, forks) so the build list is the one it ships with.
  {
    echo "module rollback-controller.test/argo-rollouts"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$dir/go.mod")"
    echo
    echo "require $module $ARGO_ROLLOUTS_VERSION"
    echo
    sed -n '/^replace (/,/^)/p' "$dir/go.mod"
    sed -n 's/^replace \([^(].*\)$/replace \1/p' "$dir/go.mod"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

// Keeps the controller command in this module's build list.
package tools

import _ "github.com/argoproj/argo-rollouts/cmd/rollouts-controller"
GO
  log "resolving Argo Rollouts $ARGO_ROLLOUTS_VERSION modules"
  (cd "$mod" && go get "$module@$ARGO_ROLLOUTS_VERSION" >&2 && go mod download >&2)
  log "building rollouts-controller $ARGO_ROLLOUTS_VERSION (several minutes the first time on 2 cores)"
  (cd "$mod" && go build -trimpath -tags tools -ldflags="-s -w" \
    -o "$out/bin/rollouts-controller.tmp" "$module/cmd/rollouts-controller" &&
    mv "$out/bin/rollouts-controller.tmp" "$out/bin/rollouts-controller")
  log "built in $((SECONDS - started)) s"
fi

echo "$out"
