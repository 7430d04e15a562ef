// High availability keeps the state a failover must not lose on the workload itself, not only
// in this replica's journal. Two checks the runner passes before a Kubernetes job acts:
// - `last-rollback`: the workload's last-rollback annotation is consulted: a rollback for the
//   same alert instance, or one inside the cooldown, by a job this replica may never have heard
//   of (an old leader's), skips the job; a job whose own patch may already have landed (adopted,
//   or its own record is on the workload) only follows the rollout (the executor's recover path),
//   so an adopted job never patches twice;
// - `pending-mark`: while a job is queued or running, the workload carries its pending-rollback
//   mark (written when the job is pinned, re-checked when it starts, cleared when it ends), so a
//   new leader can re-create the job under the same id. A job cut short because leadership moved
//   keeps its mark: the new leader owns it now.
import type { Logger } from 'pino';
import { abortableSleep } from '../kube/abort-error.js';
import type { Workload } from '../kube/kube-types.js';
import { parseLastRollback, type LastRollback } from '../kube/last-rollback.js';
import { KUBE_RETRY, withRetry, type RetryPolicy } from '../kube/with-retry.js';
import type { Job } from '../model/job.js';
import type { PreActCheck } from '../model/pre-act-check.js';
import type { WorkloadRef } from '../model/workload-ref.js';
import { parsePending, pendingFor } from './pending-rollback.js';
import type { WorkloadMarks } from './workload-marks.js';

export const ANNOTATION_COOLDOWN_REASON = "cooldown (from the workload's last-rollback annotation)";

export interface ClusterIntentOptions {
  marks: WorkloadMarks;
  /** This replica's identity, recorded as `acceptedBy` on the marks it writes. */
  identity: string;
  cooldownMs: number;
  /** False once another replica leads: a job cut short then keeps its mark for the new leader. */
  leading: () => boolean;
  now: () => number;
  logger: Logger;
  retry?: RetryPolicy;
}

export function clusterIntentChecks(o: ClusterIntentOptions): PreActCheck[] {
  const retry = <T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> =>
    withRetry(fn, {
      ...(o.retry ?? KUBE_RETRY),
      sleep: abortableSleep,
      ...(signal ? { signal } : {}),
    });
  // The workload as the first check read it, for the second (the runner passes the same job).
  const seen = new WeakMap<Job, Workload | undefined>();
  const applies = (job: Job) => job.executor === 'kubernetes' && !!job.target;

  const mark = async (job: Job, ref: WorkloadRef, signal?: AbortSignal) => {
    try {
      await retry(() => o.marks.mark(ref, pendingFor(job, o.identity), signal), signal);
    } catch (err) {
      o.logger.warn(
        { jobId: job.id, err: (err as Error).message },
        'could not mark the workload with the pending job; a failover before it ends would lose it',
      );
    }
  };

  /** Why the workload's own record forbids this job, if it does. */
  const forbidden = (job: Job, last: LastRollback): string | undefined => {
    if (last.fingerprint === job.alert.fingerprint && last.startsAt === job.alert.startsAt) {
      return `duplicate: job ${last.jobId} already rolled back for this alert instance (the workload's last-rollback annotation)`;
    }
    const at = Date.parse(last.at);
    if (o.cooldownMs > 0 && Number.isFinite(at) && o.now() - at < o.cooldownMs) {
      return `${ANNOTATION_COOLDOWN_REASON}: job ${last.jobId} rolled it back at ${last.at}`;
    }
    return undefined;
  };

  const lastRollback: PreActCheck = {
    name: 'last-rollback',
    applies,
    async check(job, signal) {
      let workload: Workload | undefined;
      try {
        workload = await retry(() => o.marks.read(job.target!, signal), signal);
      } catch {
        // The executor reads it again and reports not-found or unreachable in its own words.
      }
      seen.set(job, workload);
      const last = parseLastRollback(workload?.metadata.annotations);
      if (workload && last && last.jobId !== job.id && !job.patched) {
        const reason = forbidden(job, last);
        if (reason) return { go: false, reason };
      }
      return { go: true, follow: job.origin === 'adopted' || last?.jobId === job.id };
    },
  };

  const pendingMark: PreActCheck = {
    name: 'pending-mark',
    applies,
    async check(job, signal) {
      const workload = seen.get(job);
      if (workload && parsePending(workload.metadata.annotations)?.jobId !== job.id)
        await mark(job, job.target!, signal);
      return { go: true };
    },
    pinned: (job) => mark(job, job.target!),
    async ended(job) {
      if (!o.leading()) return;
      try {
        await retry(() => o.marks.clear(job.target!, job.id));
      } catch (err) {
        o.logger.warn(
          { jobId: job.id, err: (err as Error).message },
          'could not clear the pending-job mark; a new leader would re-check this job',
        );
      }
    },
  };

  return [lastRollback, pendingMark];
}
