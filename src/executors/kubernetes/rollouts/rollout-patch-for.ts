// The one request that rolls a Rollout back, for the action the resolver chose, and how a retry
// recognises that an earlier, timed-out attempt of it did land.
import { parseLastRollback, type LastRollback } from '../../../kube/last-rollback.js';
import type { Job } from '../../../model/job.js';
import type { WorkloadRef } from '../../../model/workload-ref.js';
import type { RollbackResolution } from '../kube-executor-context.js';
import type { Snapshot } from '../read-snapshot.js';
import type { WorkloadPatch } from '../rollback-patcher.js';
import { asRollout } from './argo-rollout.js';
import { abortPatch, undoPatch } from './rollout-patches.js';
import type { RolloutAction } from './resolve-rollout.js';

/** The Rollout action a resolution carries (resolveRollout sets it on every rollback). */
export function rolloutActionOf(res: RollbackResolution): RolloutAction {
  const action = (res as RollbackResolution & { rollout?: RolloutAction }).rollout;
  if (!action) throw new Error('a Rollout rollback without an action (not from resolveRollout)');
  return action;
}

/** How the timeline names the request: an abort hands traffic back, an undo changes the template. */
export function rolloutVerb(res: RollbackResolution): string {
  const action = rolloutActionOf(res);
  if (action.type === 'abort') return 'aborted the update of';
  return action.templateIn.kind === 'Deployment'
    ? `undid (through Deployment ${action.templateIn.name})`
    : 'undid';
}

export function rolloutPatchFor(
  ref: WorkloadRef,
  snap: Snapshot,
  res: RollbackResolution,
  record: LastRollback,
  extraAnnotations: Record<string, string>,
): WorkloadPatch {
  const action = rolloutActionOf(res);
  if (action.type === 'abort') {
    return {
      type: 'merge',
      subresource: 'status',
      body: abortPatch(snap.workload.metadata.resourceVersion),
    };
  }
  const holder = snap.reference ?? snap.workload;
  return {
    type: 'json',
    body: undoPatch(holder, res.to.template, record, extraAnnotations),
    ...(snap.reference
      ? { target: { kind: 'Deployment', namespace: ref.namespace, name: action.templateIn.name } }
      : {}),
  };
}

/** Whether the snapshot already shows this job's rollback (a retried request that landed). */
export function rolloutApplied(job: Job, snap: Snapshot, res: RollbackResolution): boolean {
  const action = rolloutActionOf(res);
  if (action.type === 'abort') {
    const status = asRollout(snap.workload).status;
    return status?.abort === true && status.currentPodHash === action.badHash;
  }
  const holder = snap.reference ?? snap.workload;
  return parseLastRollback(holder.metadata.annotations)?.jobId === job.id;
}
