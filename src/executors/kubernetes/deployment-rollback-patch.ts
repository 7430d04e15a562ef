// The JSON patch kubectl's Deployment rollbacker sends, plus our record: replace /spec/template
// with the target ReplicaSet's template minus `pod-template-hash`, and replace the whole
// annotation map. kubectl keeps the Deployment's own values of the annotations the deployment
// controller and `kubectl apply` manage and takes every other one from the ReplicaSet.
import type { PodTemplate, Workload } from '../../kube/kube-types.js';
import {
  CHANGE_CAUSE_ANNOTATION,
  LAST_ROLLBACK_ANNOTATION,
  PENDING_ROLLBACK_ANNOTATION,
  changeCause,
  formatLastRollback,
  type LastRollback,
} from '../../kube/last-rollback.js';
import { withoutHashLabel } from './templates-equal.js';

/** Annotations kubectl never copies from the ReplicaSet back to the Deployment. */
export const DEPLOYMENT_OWN_ANNOTATIONS: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
  // Ours: the queued/running job's intent must survive its own patch (a new leader adopts it).
  PENDING_ROLLBACK_ANNOTATION,
  // Flux's switch is about the Deployment, not a template revision: a rollback neither turns
  // reconciliation back on nor off behind a human's back (src/owners/).
  'kustomize.toolkit.fluxcd.io/reconcile',
]);

export interface JsonPatchOp {
  op: 'replace' | 'add' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

/** kubectl's annotation map for a rollback to a ReplicaSet with `rsAnnotations`. */
export function rollbackAnnotations(
  deploymentAnnotations: Record<string, string> | undefined,
  rsAnnotations: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of DEPLOYMENT_OWN_ANNOTATIONS) {
    const v = deploymentAnnotations?.[key];
    if (v !== undefined) out[key] = v;
  }
  for (const [key, v] of Object.entries(rsAnnotations ?? {})) {
    if (!DEPLOYMENT_OWN_ANNOTATIONS.has(key)) out[key] = v;
  }
  return out;
}

export function deploymentRollbackPatch(
  deployment: Workload,
  target: { template: PodTemplate; annotations?: Record<string, string> },
  record: LastRollback,
): JsonPatchOp[] {
  const annotations = rollbackAnnotations(deployment.metadata.annotations, target.annotations);
  annotations[LAST_ROLLBACK_ANNOTATION] = formatLastRollback(record);
  annotations[CHANGE_CAUSE_ANNOTATION] = changeCause(record);
  return [
    { op: 'replace', path: '/spec/template', value: withoutHashLabel(target.template) },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}
