// Script jobs that name a workload (a target the policy validated) are treated like Kubernetes
// jobs where it matters:
// - pinned: the revision current at alert time and the one before it reach the script as
//   ROLLBACK_FROM_REVISION / ROLLBACK_TO_REVISION, so `kubectl rollout undo --to-revision` stays
//   pinned even when a script does the undo;
// - the workload's opt-out annotation applies: a team that opted its workload out of automatic
//   rollback is not rolled back by a script either (checked in the dry run and again just before
//   the script starts).
import type { Job } from '../model/job.js';
import type { Executor, JobPatch } from '../model/executor.js';
import type { WorkloadRef } from '../model/workload-ref.js';
import { optedOut } from './kubernetes/resolve-rollback.js';

export interface WorkloadOptOut {
  annotation: string;
  /** The workload's annotations; undefined when it cannot be read (no cluster configured). */
  read(ref: WorkloadRef, signal?: AbortSignal): Promise<Record<string, string> | undefined>;
}

export function withWorkloadPin(
  script: Executor,
  kubernetes: Executor,
  optOut?: WorkloadOptOut,
): Executor {
  /** Why the target forbids the script, if it does. A failed read refuses (fail closed). */
  const refusal = async (job: Job, signal?: AbortSignal): Promise<string | undefined> => {
    if (!job.target || !optOut) return undefined;
    const ref = `${job.target.kind} ${job.target.namespace}/${job.target.name}`;
    let annotations: Record<string, string> | undefined;
    try {
      annotations = await optOut.read(job.target, signal);
    } catch (err) {
      return `could not read ${ref} to check its ${optOut.annotation} annotation (${(err as Error).message}); the script was not run`;
    }
    const value = annotations?.[optOut.annotation];
    return optedOut(value)
      ? `${ref} opted out of automatic rollback (annotation ${optOut.annotation}=${JSON.stringify(value)}); the script was not run`
      : undefined;
  };
  return {
    name: script.name,
    availability: () => script.availability(),
    async plan(job) {
      const why = await refusal(job);
      return why ? { action: 'skip', reason: why } : script.plan(job);
    },
    async execute(job, ctx) {
      const why = await refusal(job, ctx.signal);
      return why ? { outcome: 'skipped', reason: why } : script.execute(job, ctx);
    },
    ...(script.recover ? { recover: script.recover.bind(script) } : {}),
    async pin(job: Job): Promise<JobPatch> {
      if (!job.target) return {};
      const plan = await kubernetes.plan(job);
      const patch: JobPatch = {};
      if (plan.fromRevision !== undefined) patch.fromRevision = plan.fromRevision;
      if (plan.action === 'rollback' && plan.toRevision !== undefined)
        patch.toRevision = plan.toRevision;
      return patch;
    },
  };
}
