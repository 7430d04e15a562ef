// The requests a Rollout rollback sends, each guarded by the resourceVersion it was planned on
// (kubectl's plugin sends none: a change in between would be overwritten or promoted).
// - abort: `{"status":{"abort":true}}` on the status subresource (kubectl argo rollouts abort);
// - undo: a JSON patch replacing /spec/template with the target ReplicaSet's template (kubectl
//   argo rollouts undo), on the Rollout or on the Deployment its workloadRef names, plus our
//   record; the status subresource keeps no metadata, so an abort carries no record: the
//   aborted status and the Event say what happened;
// - promoteFull: `{"status":{"promoteFull":true}}` on the status subresource (kubectl argo
//   rollouts promote --full), for a Rollout that is not paused by hand.
import type { PodTemplate } from '../../../kube/kube-types.js';
import {
  CHANGE_CAUSE_ANNOTATION,
  LAST_ROLLBACK_ANNOTATION,
  changeCause,
  formatLastRollback,
  type LastRollback,
} from '../../../kube/last-rollback.js';
import type { JsonPatchOp } from '../deployment-rollback-patch.js';

export function abortPatch(resourceVersion: string | undefined): Record<string, unknown> {
  return { ...guard(resourceVersion), status: { abort: true } };
}

export function promoteFullPatch(resourceVersion: string | undefined): Record<string, unknown> {
  return { ...guard(resourceVersion), status: { promoteFull: true } };
}

/** The undo on the object holding the template (a Rollout or a workloadRef's Deployment). */
export function undoPatch(
  object: { metadata: { resourceVersion?: string; annotations?: Record<string, string> } },
  template: PodTemplate,
  record: LastRollback,
  extraAnnotations: Record<string, string> = {},
): JsonPatchOp[] {
  const annotations = {
    ...extraAnnotations,
    [LAST_ROLLBACK_ANNOTATION]: formatLastRollback(record),
    [CHANGE_CAUSE_ANNOTATION]: changeCause(record),
  };
  const rv = object.metadata.resourceVersion;
  return [
    ...(rv ? [{ op: 'test' as const, path: '/metadata/resourceVersion', value: rv }] : []),
    { op: 'replace', path: '/spec/template', value: template },
    // Only our keys: the object's other annotations (Argo's revision, kubectl's) stay as they are.
    ...(object.metadata.annotations
      ? Object.entries(annotations).map(([key, value]) => ({
          op: 'add' as const,
          path: `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          value,
        }))
      : [{ op: 'add' as const, path: '/metadata/annotations', value: annotations }]),
  ];
}

function guard(resourceVersion: string | undefined): Record<string, unknown> {
  return resourceVersion ? { metadata: { resourceVersion } } : {};
}
