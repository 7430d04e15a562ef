// Whether the rollout being followed is still ours. After our patch someone may deploy again
// (a `kubectl set image`, a pipeline): following on would report that deploy's outcome as the
// rollback's. A newer generation alone proves nothing (an HPA or a replicas-only apply bumps it
// too), so it takes both a newer generation and a pod template other than the one our patch
// produced. Only Deployments, StatefulSets and DaemonSets: a Rollout's spec is judged by its own
// status (argo-rollout-status.ts).
import type { ManagedFieldsEntry, Workload } from '../../kube/kube-types.js';
import type { OurRollout } from './rollout-status.js';
import { templateDigest } from './templates-equal.js';

/** The job's reason when the workload moved on from our rollout, else undefined (keep following). */
export function supersededRollout(workload: Workload, ours: OurRollout): string | undefined {
  if (ours.templateDigest === undefined || ours.generation === undefined) return undefined;
  const generation = workload.metadata.generation ?? 0;
  if (generation <= ours.generation) return undefined;
  if (templateDigest(workload.spec.template) === ours.templateDigest) return undefined;
  const by = templateWriter(workload.metadata.managedFields ?? []);
  return `the workload changed again after the rollback (generation ${ours.generation} → ${generation}, template differs: a newer deploy${by ? ` by ${by}` : ''}); not following a rollout that is not ours. The rollback patch was applied (it counts toward the circuit breaker), but its outcome cannot be told, so there is no verdict`;
}

/** The manager that last wrote the pod template (managedFields), if any says so. */
function templateWriter(entries: ManagedFieldsEntry[]): string | undefined {
  let newest: ManagedFieldsEntry | undefined;
  for (const e of entries) {
    const spec = e.fieldsV1?.['f:spec'] as Record<string, unknown> | undefined;
    if (e.subresource || !e.manager || !e.time || !spec?.['f:template']) continue;
    // Times are whole seconds: on a tie the later entry (the most recent write) wins.
    if (!newest || Date.parse(e.time) >= Date.parse(newest.time ?? '')) newest = e;
  }
  return newest?.manager;
}
