#!/usr/bin/env bash
# Builds the node binaries the node suite runs next to the control plane: kubelet and kube-proxy,
# from the same Kubernetes module set (and Go build cache) as test/cluster/build-control-plane.sh,
# into the same bin folder. Cached there: a second run builds nothing.
# containerd, runc and the CNI plugins are Debian's (apt-get install containerd runc
# containernetworking-plugins iproute2 iptables).
# Prints the bin folder on the last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
log() { echo "build-node: $*" >&2; }

# The control plane first: it pins the versions and resolves the module set this build reuses.
bin="$(bash "$here/../cluster/build-control-plane.sh" | tail -1)"
kube_version="$(sed -n 's/^KUBE_VERSION=\(.*\)$/\1/p' "$here/../cluster/build-control-plane.sh")"
mod="$(dirname "$bin")/src/kube"

missing=()
for name in kubelet kube-proxy; do
  [[ -x "$bin/$name" ]] || missing+=("$name")
done
if ((${#missing[@]} == 0)); then
  log "cached: $bin"
  echo "$bin"
  exit 0
fi

export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
started=$SECONDS
minor="$(echo "$kube_version" | cut -d. -f2)"
# Serialised with any other build in the same module folder (go.mod/go.sum are rewritten).
exec 9>"$mod/.build.lock"
flock 9
for name in "${missing[@]}"; do
  log "building $name $kube_version (several minutes the first time on 2 cores)"
  (cd "$mod" && go build -trimpath \
    -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    -o "$bin/$name.tmp" "k8s.io/kubernetes/cmd/$name" && mv "$bin/$name.tmp" "$bin/$name")
  log "$name built ($((SECONDS - started)) s so far)"
done
log "done in $((SECONDS - started)) s: $bin"
echo "$bin"
