// What every log line about a job carries (a pino child's bindings): the job, its target and the
// alert that started it, so a failed rollback's line names the workload without a look-up.
import type { Job } from '../model/job.js';

export function jobLogBindings(
  job: Pick<Job, 'id' | 'target' | 'targetKey' | 'alert'>,
): Record<string, string> {
  return {
    jobId: job.id,
    target: job.target
      ? `${job.target.kind} ${job.target.namespace}/${job.target.name}`
      : job.targetKey,
    alertname: job.alert.alertname,
    fingerprint: job.alert.fingerprint,
  };
}
