// What a plan says about the StatefulSet forced-rollback case (stuck-pods.ts) before patching:
// a pod of the bad revision that is not ready now will hold the rolled-back template back.
import type { WorkloadRef } from '../../model/workload-ref.js';
import type { KubeExecutorContext, RollbackResolution } from './kube-executor-context.js';
import { labelSelectorString } from './label-selector.js';
import type { Snapshot } from './read-snapshot.js';
import { notReadyPods, ordersReady } from './stuck-pods.js';

/** The note to add to the plan's reason ('' when nothing applies). Never throws. */
export async function stuckPlanNote(
  k: KubeExecutorContext,
  ref: WorkloadRef,
  snap: Snapshot,
  res: RollbackResolution,
  signal?: AbortSignal,
): Promise<string> {
  if (ref.kind !== 'StatefulSet' || !ordersReady(snap.workload)) return '';
  const enabled = k.options.deleteStuckPods === true;
  const policy = enabled
    ? `policy.deleteStuckPods: pods still on revision ${res.fromRevision} that are not ready after the patch are deleted`
    : '';
  let stuck: string[] = [];
  try {
    const pods = await k.client.listPods(
      ref.namespace,
      labelSelectorString(snap.workload.spec.selector),
      signal,
    );
    const bad = new Set([res.from.name]);
    stuck = notReadyPods(snap.workload, pods, (r) => bad.has(r)).map((p) => p.metadata.name ?? '');
  } catch {
    // The note is advice; the plan stands without it.
  }
  if (!stuck.length) return policy ? ` (${policy})` : '';
  const what = `pod ${stuck.join(', ')} of revision ${res.fromRevision} is not ready: with podManagementPolicy OrderedReady the StatefulSet controller will wait for it after the patch (forced rollback)`;
  return enabled
    ? ` (${what}; ${policy})`
    : ` (${what}: delete it after the patch, kubectl delete pod ${stuck.join(' ')} -n ${ref.namespace}, or set policy.deleteStuckPods: true)`;
}
