#!/usr/bin/env bash
# Fetches the real CRDs of Argo CD (Application, ApplicationSet) and Flux (Kustomization,
# HelmRelease) from their upstream Go modules on the module proxy, into .tools/gitops-crds-<pins>/.
# Cached: a second run with the same versions downloads nothing. Prints the folder on the last
# line of stdout.
#   argocd-<old>/ and argocd-<current>/   application-crd.yaml, applicationset-crd.yaml
#   flux/                                 kustomizations.yaml, helmreleases.yaml
# Argo CD and kustomize-controller ship their CRD YAML in the module (manifests/crds,
# config/crd/bases). helm-controller's main module is not on the proxy; its api module is, and
# the CRD is generated from those types with controller-gen, as helm-controller's Makefile does.
set -euo pipefail

# Pinned versions: the only place they are written. The older Argo CD (2.x) predates
# spec.syncPolicy.automated.enabled, so its structural schema prunes that field.
ARGOCD_OLD=v2.14.21
ARGOCD_CURRENT=v3.5.7
KUSTOMIZE_CONTROLLER=v1.9.6
HELM_CONTROLLER_API=v1.6.5
CONTROLLER_TOOLS=v0.19.0

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.tools/gitops-crds-argocd-$ARGOCD_OLD-$ARGOCD_CURRENT-kc-$KUSTOMIZE_CONTROLLER-hc-$HELM_CONTROLLER_API"
log() { echo "fetch-gitops-crds: $*" >&2; }

if [[ -f $out/.done ]]; then
  echo "$out"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (or not on PATH): install Go >= 1.25 (https://go.dev/dl) and run this script again."
  exit 2
fi
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out.tmp/flux"

module_dir() {
  (cd "$work" && go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
}

for v in "$ARGOCD_OLD" "$ARGOCD_CURRENT"; do
  major="${v%%.*}"
  log "downloading Argo CD $v CRDs"
  dir="$(module_dir "github.com/argoproj/argo-cd/$major@$v")"
  mkdir -p "$out.tmp/argocd-$v"
  cp "$dir/manifests/crds/application-crd.yaml" "$dir/manifests/crds/applicationset-crd.yaml" \
    "$out.tmp/argocd-$v/"
done

log "downloading kustomize-controller $KUSTOMIZE_CONTROLLER CRD"
dir="$(module_dir "github.com/fluxcd/kustomize-controller@$KUSTOMIZE_CONTROLLER")"
cp "$dir/config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml" "$out.tmp/flux/kustomizations.yaml"

gen="$root/.tools/controller-gen-$CONTROLLER_TOOLS/controller-gen"
if [[ ! -x $gen ]]; then
  log "building controller-gen $CONTROLLER_TOOLS (once)"
  (cd "$work" && GOBIN="$(dirname "$gen")" go install -trimpath -ldflags='-s -w' \
    "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS")
fi
log "generating the HelmRelease CRD from helm-controller/api $HELM_CONTROLLER_API"
dir="$(module_dir "github.com/fluxcd/helm-controller/api@$HELM_CONTROLLER_API")"
cp -r "$dir" "$work/helm-api"
chmod -R u+w "$work/helm-api"
(cd "$work/helm-api" && "$gen" crd:crdVersions=v1 paths=./... output:crd:dir="$work/helm-crd")
cp "$work/helm-crd/helm.toolkit.fluxcd.io_helmreleases.yaml" "$out.tmp/flux/helmreleases.yaml"

touch "$out.tmp/.done"
mv "$out.tmp" "$out"
echo "$out"
