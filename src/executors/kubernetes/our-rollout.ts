// What the API server recorded of our patch, so following the rollout judges the rollout our
// patch started and never a condition left from before it (see OurRollout).
import type { Workload } from '../../kube/kube-types.js';
import type { Job } from '../../model/job.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import type { KubeExecutorContext } from './kube-executor-context.js';
import type { OurRollout } from './rollout-status.js';
import { templateDigest } from './templates-equal.js';

/** What the API server recorded of our patch on `patched` (see OurRollout). */
export function ourRollout(
  controllerName: string,
  patched: Workload,
  before?: Workload,
): NonNullable<Job['rollout']> {
  const entry = patched.metadata.managedFields?.find(
    (e) => e.manager === controllerName && !e.subresource && e.time,
  );
  const progressing = before?.status?.conditions?.find((c) => c.type === 'Progressing');
  return {
    ...(patched.metadata.generation !== undefined
      ? { generation: patched.metadata.generation }
      : {}),
    ...(entry?.time ? { patchedAt: entry.time } : {}),
    templateDigest: templateDigest(patched.spec.template),
    ...(progressing
      ? {
          before: {
            ...(progressing.reason ? { reason: progressing.reason } : {}),
            ...(progressing.lastUpdateTime ? { lastUpdateTime: progressing.lastUpdateTime } : {}),
            ...(progressing.lastTransitionTime
              ? { lastTransitionTime: progressing.lastTransitionTime }
              : {}),
          },
        }
      : {}),
  };
}

/** For a job whose patch landed earlier: its own record, else what the workload shows now. */
export async function recordedRollout(
  k: KubeExecutorContext,
  job: Job,
  ref: WorkloadRef,
  signal: AbortSignal,
  workload?: Workload,
): Promise<OurRollout> {
  if (job.rollout) return job.rollout;
  try {
    const now = workload ?? (await k.retry(() => k.client.readWorkload(ref, signal)));
    // The current generation is at least ours (waits longer, never less).
    return ourRollout(k.controllerName, now);
  } catch {
    return {};
  }
}
