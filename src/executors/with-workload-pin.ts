// Script jobs that name a workload (a target the policy validated) are pinned like Kubernetes
// jobs: the revision current at alert time and the one before it reach the script as
// ROLLBACK_FROM_REVISION / ROLLBACK_TO_REVISION, so `kubectl rollout undo --to-revision` stays
// pinned even when a script does the undo. (The opt-out annotation is a check the runner passes
// before the script starts: workload-opt-out-check.ts.)
import type { Job } from '../model/job.js';
import type { Executor, JobPatch } from '../model/executor.js';

export function withWorkloadPin(script: Executor, kubernetes: Executor): Executor {
  return {
    name: script.name,
    availability: () => script.availability(),
    plan: (job) => script.plan(job),
    execute: (job, ctx) => script.execute(job, ctx),
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
