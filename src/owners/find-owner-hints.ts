// What a workload's own labels and annotations say about who manages it. Pure: the objects they
// name are confirmed afterwards (gather-owner-facts.ts), as contract.md "Workloads managed by GitOps or Helm" asks.
import type { ObjectRef } from '../model/owner.js';
import {
  ARGO_TRACKING_ID,
  FLUX_HR_NAME,
  FLUX_HR_NAMESPACE,
  FLUX_KS_NAME,
  FLUX_KS_NAMESPACE,
  HELM_RELEASE_NAME,
  HELM_RELEASE_NAMESPACE,
  INSTANCE_LABEL,
  gitopsRef,
} from './owner-objects.js';

export interface OwnerHints {
  /**
   * Argo CD Applications that may manage the object: the one its tracking id names (certain), or
   * one per configured Argo CD namespace for the instance label (only if such an Application exists).
   */
  argocd?: { candidates: ObjectRef[]; via: 'tracking-id' | 'instance-label' };
  fluxKustomization?: ObjectRef;
  fluxHelmRelease?: ObjectRef;
  helm?: { release: string; namespace: string };
}

export interface MetadataLike {
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Argo CD's tracking id is `<app>:<group>/<kind>:<namespace>/<name>`, where `<app>` is
 * `<namespace>_<name>` for an Application outside the control-plane namespace
 * (argo-cd util/argo/resource_tracking.go).
 */
export function parseTrackingId(
  value: string,
  argocdNamespaces: readonly string[],
): ObjectRef | undefined {
  const app = value.split(':')[0]?.trim();
  if (!app) return undefined;
  const sep = app.indexOf('_');
  const [namespace, name] =
    sep > 0 ? [app.slice(0, sep), app.slice(sep + 1)] : [argocdNamespaces[0] ?? 'argocd', app];
  if (!name || !namespace) return undefined;
  return gitopsRef('Application', namespace, name);
}

export function findOwnerHints(
  meta: MetadataLike,
  argocdNamespaces: readonly string[],
): OwnerHints {
  const labels = meta.labels ?? {};
  const annotations = meta.annotations ?? {};
  const hints: OwnerHints = {};
  const tracked = annotations[ARGO_TRACKING_ID];
  const byTracking = tracked ? parseTrackingId(tracked, argocdNamespaces) : undefined;
  if (byTracking) hints.argocd = { candidates: [byTracking], via: 'tracking-id' };
  else if (labels[INSTANCE_LABEL])
    hints.argocd = {
      candidates: argocdNamespaces.map((ns) =>
        gitopsRef('Application', ns, labels[INSTANCE_LABEL] ?? ''),
      ),
      via: 'instance-label',
    };
  const ks = [labels[FLUX_KS_NAME], labels[FLUX_KS_NAMESPACE]];
  if (ks[0] && ks[1]) hints.fluxKustomization = gitopsRef('Kustomization', ks[1], ks[0]);
  const hr = [labels[FLUX_HR_NAME], labels[FLUX_HR_NAMESPACE]];
  if (hr[0] && hr[1]) hints.fluxHelmRelease = gitopsRef('HelmRelease', hr[1], hr[0]);
  const release = annotations[HELM_RELEASE_NAME];
  if (release)
    hints.helm = {
      release,
      namespace: annotations[HELM_RELEASE_NAMESPACE] ?? meta.namespace ?? '',
    };
  return hints;
}
