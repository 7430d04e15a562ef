// After a pinned undo of a promoted Rollout, the stable ReplicaSet is the bad one, so Argo would
// walk the old template through every canary step and analysis again (or wait for a blue-green
// promotion). Unless spec.rollbackWindow makes Argo skip them itself, the job asks for a full
// promotion, as `kubectl argo rollouts promote --full` does: `status.promoteFull` on the status
// subresource. It is sent only once the controller has observed our template (Argo drops a
// promoteFull it finds on a template change: rollout/sync.go resetRolloutStatus), only while the
// spec is still ours, and guarded by the resourceVersion it was decided on.
import { KubeConflictError } from '../../../kube/kube-errors.js';
import type { ExecutionContext } from '../../../model/executor.js';
import type { WorkloadRef } from '../../../model/workload-ref.js';
import type { KubeExecutorContext } from '../kube-executor-context.js';
import type { OurRollout } from '../rollout-status.js';
import { asRollout } from './argo-rollout.js';
import { controllerBehind, movedOn } from './argo-rollout-status.js';
import { promoteFullPatch } from './rollout-patches.js';

/** What happened, for the job's timeline (nothing for an abort); never throws for an expected state. */
export async function fastTrackRollout(
  k: KubeExecutorContext,
  ref: WorkloadRef,
  ours: OurRollout,
  ctx: ExecutionContext,
  startedAt: number,
): Promise<string | undefined> {
  const argo = ours.argo;
  if (argo?.action !== 'undo') return undefined;
  if (argo.fastTrack !== 'promoteFull') {
    return 'spec.rollbackWindow covers the target: Argo Rollouts skips the steps by itself';
  }
  const deadline = startedAt + ctx.rolloutTimeoutMs;
  for (;;) {
    const rollout = asRollout(
      await k.retry(() => k.client.readWorkload(ref, ctx.signal), ctx.signal),
    );
    const s = rollout.status ?? {};
    if (movedOn(rollout.metadata.generation, ours.generation)) {
      return 'not promoting: the Rollout spec changed after the rollback';
    }
    if (!controllerBehind(rollout, ours)) {
      if (s.stableRS === s.currentPodHash) return 'the Rollout promoted the rollback by itself';
      if (s.promoteFull === true) return 'a full promotion was already requested';
      try {
        await k.client.patchWorkloadStatus(
          ref,
          promoteFullPatch(rollout.metadata.resourceVersion),
          {
            dryRun: false,
            fieldManager: k.controllerName,
            signal: ctx.signal,
          },
        );
        return 'requested a full promotion (status.promoteFull): no canary step, pause or analysis runs for the rollback';
      } catch (err) {
        // The controller wrote status in between: read again and decide again.
        if (!(err instanceof KubeConflictError)) throw err;
      }
    }
    const left = deadline - k.clock.now();
    if (left <= 0)
      return 'the controller did not observe the rollback before the deadline: no full promotion requested';
    await k.sleep(Math.min(k.pollIntervalMs, left), ctx.signal);
  }
}
