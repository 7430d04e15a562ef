// What following a Rollout needs to know of the job's request (see OurRollout): the Rollout's
// generation it produced (or saw, for an abort and a workloadRef's Deployment patch), the
// Deployment generation a workloadRef undo produced, and the ReplicaSet traffic should end on.
import type { Workload } from '../../../kube/kube-types.js';
import type { Job } from '../../../model/job.js';
import type { RollbackResolution } from '../kube-executor-context.js';
import { ourRollout } from '../our-rollout.js';
import { rolloutActionOf } from './rollout-patch-for.js';

export function rolloutOurs(
  controllerName: string,
  res: RollbackResolution,
  before: Workload,
  patched: Workload,
): NonNullable<Job['rollout']> {
  const action = rolloutActionOf(res);
  const viaDeployment = action.type === 'undo' && action.templateIn.kind === 'Deployment';
  // The Rollout's own generation moves only when its own spec is patched.
  const base = ourRollout(
    controllerName,
    action.type === 'undo' && !viaDeployment ? patched : before,
    before,
  );
  // A Rollout is judged by its own status, never by a template digest (superseded-rollout.ts).
  delete base.templateDigest;
  const stampedBy = ourRollout(controllerName, patched);
  return {
    ...base,
    ...(stampedBy.patchedAt ? { patchedAt: stampedBy.patchedAt } : {}),
    argo:
      action.type === 'abort'
        ? { action: 'abort', targetHash: action.stableHash, badHash: action.badHash }
        : {
            action: 'undo',
            targetHash: action.targetHash,
            badHash: action.badHash,
            fastTrack: action.fastTrack,
            ...(viaDeployment && patched.metadata.generation !== undefined
              ? { workloadGeneration: patched.metadata.generation }
              : {}),
          },
  };
}
