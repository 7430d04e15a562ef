#!/usr/bin/env bash
# Builds the real kube-state-metrics (the exporter the dashboard's change-failure panels read
# deploys from) from the Go module proxy into .tools/kube-state-metrics-v<version>/bin. Cached: a
# second run with the same version builds nothing. Prints the binary's path on the last line.
# KUBE_STATE_METRICS_BIN: an existing kube-state-metrics binary to use instead of building one.
set -euo pipefail

# Pinned version: the only place it is written (its go.mod declares go 1.26.0).
KSM_VERSION=v2.20.0

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.tools/kube-state-metrics-$KSM_VERSION"
bin="$out/bin/kube-state-metrics"
log() { echo "build-kube-state-metrics: $*" >&2; }

if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$out/bin"
if [[ -n ${KUBE_STATE_METRICS_BIN:-} && -x $KUBE_STATE_METRICS_BIN ]]; then
  log "using $KUBE_STATE_METRICS_BIN (KUBE_STATE_METRICS_BIN)"
  ln -sf "$KUBE_STATE_METRICS_BIN" "$bin"
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (or not on PATH): install Go >= 1.26 (https://go.dev/dl) and run this script again."
  exit 2
fi
module="k8s.io/kube-state-metrics/v2"
export CGO_ENABLED=0
dir="$(cd "$out" && GOFLAGS=-mod=mod go mod download -json "$module@$KSM_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
if [[ -z $dir ]]; then
  log "could not download $module@$KSM_VERSION from the Go module proxy (see the go error above)"
  exit 1
fi
started=$SECONDS
# The main package is the module's root: build it with the module's own go.mod and go.sum, so
# the dependency versions are exactly the release's (a wrapper module would re-resolve them).
log "building kube-state-metrics $KSM_VERSION (about 4 CPU-minutes the first time)"
(cd "$dir" && GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags="-s -w" \
  -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
log "built in $((SECONDS - started)) s"
echo "$bin"
