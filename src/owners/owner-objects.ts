// The GitOps objects the controller reads or changes, and the labels and annotations that point
// at them (Argo CD resource tracking, Flux's ownership labels, Helm's release annotations).
import type { CustomObject } from '../kube/kube-client.js';
import type { ObjectRef } from '../model/owner.js';

export const ARGO_TRACKING_ID = 'argocd.argoproj.io/tracking-id';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const FLUX_KS_NAME = 'kustomize.toolkit.fluxcd.io/name';
export const FLUX_KS_NAMESPACE = 'kustomize.toolkit.fluxcd.io/namespace';
/** Flux's kustomize-controller leaves an object alone while it carries this with `disabled`. */
export const FLUX_RECONCILE = 'kustomize.toolkit.fluxcd.io/reconcile';
export const FLUX_HR_NAME = 'helm.toolkit.fluxcd.io/name';
export const FLUX_HR_NAMESPACE = 'helm.toolkit.fluxcd.io/namespace';
export const HELM_RELEASE_NAME = 'meta.helm.sh/release-name';
export const HELM_RELEASE_NAMESPACE = 'meta.helm.sh/release-namespace';

export type GitOpsKind = 'Application' | 'ApplicationSet' | 'Kustomization' | 'HelmRelease';

const API_VERSIONS: Record<GitOpsKind, string> = {
  Application: 'argoproj.io/v1alpha1',
  ApplicationSet: 'argoproj.io/v1alpha1',
  Kustomization: 'kustomize.toolkit.fluxcd.io/v1',
  HelmRelease: 'helm.toolkit.fluxcd.io/v2',
};

export function gitopsRef(kind: GitOpsKind, namespace: string, name: string): ObjectRef {
  return { apiVersion: API_VERSIONS[kind], kind, namespace, name };
}

/** `Application argocd/checkout`. */
export function refText(ref: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** The wire shape of the GitOps objects, as far as the controller reads them. */
export type GitOpsObject = CustomObject;
