#!/usr/bin/env bash
# Builds the real Kubernetes control plane the cluster tests run against (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) from the Go module proxy, into .tools/kube-v<version>/bin.
# Binaries are cached there: a second run with the same versions builds nothing.
# KUBEBUILDER_ASSETS: a folder with any of these binaries; those found there are used as they are
# (linked into the cache folder) and only the missing ones are built.
# Prints the bin folder on the last line of stdout; the CRDs are in its sibling folder crds-*.
set -euo pipefail

# Pinned versions: the only place they are written.
KUBE_VERSION=1.35.4
# Kubernetes 1.35's build/dependencies.yaml names etcd 3.6.6.
ETCD_VERSION=3.6.6
# CRDs for the chart's optional objects (ServiceMonitor, PrometheusRule, AlertmanagerConfig), from
# the prometheus-operator module's example/prometheus-operator-crd folder.
PROMETHEUS_OPERATOR_VERSION=0.85.0

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.tools/kube-v$KUBE_VERSION-etcd-v$ETCD_VERSION"
bin="$out/bin"
work="$out/src"

log() { echo "build-control-plane: $*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (or not on PATH). The cluster tests build Kubernetes $KUBE_VERSION and etcd $ETCD_VERSION"
  log "from source: install Go >= 1.25 (https://go.dev/dl) and run this script again."
  exit 2
fi

mkdir -p "$bin" "$work"
# The build uses the module proxy only for modules (no VCS), and never edits the caller's go env.
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0

crds="$out/crds-prometheus-operator-v$PROMETHEUS_OPERATOR_VERSION"
if [[ ! -d $crds ]]; then
  log "downloading prometheus-operator $PROMETHEUS_OPERATOR_VERSION CRDs"
  module="github.com/prometheus-operator/prometheus-operator@v$PROMETHEUS_OPERATOR_VERSION"
  dir="$(cd "$work" && go mod download -json "$module" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$crds.tmp"
  for kind in servicemonitors prometheusrules alertmanagerconfigs; do
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$crds.tmp/"
  done
  mv "$crds.tmp" "$crds"
fi

kube_cmds=(kube-apiserver kube-controller-manager kube-scheduler)
missing=()
for name in etcd "${kube_cmds[@]}"; do
  if [[ -x "$bin/$name" ]]; then continue; fi
  if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/$name" ]]; then
    log "using $KUBEBUILDER_ASSETS/$name (KUBEBUILDER_ASSETS)"
    ln -sf "$KUBEBUILDER_ASSETS/$name" "$bin/$name"
    continue
  fi
  missing+=("$name")
done

if ((${#missing[@]} == 0)); then
  log "cached: $bin"
  echo "$bin"
  exit 0
fi

started=$SECONDS
build_kube=()
for name in "${missing[@]}"; do
  [[ $name == etcd ]] || build_kube+=("$name")
done

if [[ " ${missing[*]} " == *" etcd "* ]]; then
  # etcd gets its own module: its dependency versions differ from the ones Kubernetes pins.
  mod="$work/etcd"
  mkdir -p "$mod"
  cat >"$mod/go.mod" <<EOF
module rollback-controller.test/etcd

go 1.25.0

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
EOF
  cat >"$mod/main.go" <<'EOF'
// etcd's own entry point, the same as the etcd binary of its release.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  log "downloading etcd $ETCD_VERSION modules"
  (cd "$mod" && go mod download go.etcd.io/etcd/server/v3 && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2)
  log "building etcd $ETCD_VERSION"
  (cd "$mod" && go build -trimpath -ldflags="-s -w" -o "$bin/etcd.tmp" . && mv "$bin/etcd.tmp" "$bin/etcd")
  log "etcd built ($((SECONDS - started)) s so far)"
fi

if ((${#build_kube[@]})); then
  mod="$work/kube"
  mkdir -p "$mod"
  minor="$(echo "$KUBE_VERSION" | cut -d. -f2)"
  staging_version="v0.${KUBE_VERSION#1.}"
  # k8s.io/kubernetes requires its staging modules (k8s.io/api, ...) at v0.0.0 and replaces them with
  # ./staging paths that a module download does not have: point each at the matching v0.x release.
  kube_gomod="$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')"
  mapfile -t staging < <(sed -n 's/^\s*\(k8s\.io\/[a-z0-9-]*\) v0\.0\.0$/\1/p' "$kube_gomod" | sort -u)
  {
    echo "module rollback-controller.test/kube"
    echo
    echo "go 1.25.0"
    echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo
    for m in "${staging[@]}"; do echo "replace $m => $m $staging_version"; done
  } >"$mod/go.mod"
  {
    echo "//go:build tools"
    echo
    echo "// Keeps the control-plane commands in this module's build list."
    echo "package kube"
    echo
    echo "import ("
    for name in "${kube_cmds[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$name\""; done
    echo ")"
  } >"$mod/tools.go"
  log "resolving Kubernetes $KUBE_VERSION modules (${#staging[@]} staging modules at $staging_version)"
  (cd "$mod" && go get "k8s.io/kubernetes@v$KUBE_VERSION" >&2 && go mod download >&2)
  for name in "${build_kube[@]}"; do
    log "building $name $KUBE_VERSION (slow the first time: several minutes each on 2 cores)"
    (cd "$mod" && go build -trimpath -tags tools \
      -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
      -o "$bin/$name.tmp" "k8s.io/kubernetes/cmd/$name" && mv "$bin/$name.tmp" "$bin/$name")
    log "$name built ($((SECONDS - started)) s so far)"
  done
fi

log "done in $((SECONDS - started)) s: $bin"
echo "$bin"
