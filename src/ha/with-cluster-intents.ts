// Wraps the Kubernetes executor so the state a failover must not lose lives on the workload
// itself, not only in this replica's journal:
// - while a job is queued or running, the workload carries its pending-rollback mark (written
//   when the job is pinned, re-checked when it starts, cleared when it ends), so a new leader can
//   re-create the job under the same id;
// - before acting, the workload's `last-rollback` annotation is consulted: a rollback for the
//   same alert instance, or one inside the cooldown, by a job this replica may never have heard
//   of (an old leader's), skips the job; a job whose own patch already landed only follows the
//   rollout (the executor's recover path), so an adopted job never patches twice.
// A job cut short because leadership moved keeps its mark: the new leader owns it now.
import type { Logger } from 'pino';
import { abortableSleep } from '../kube/abort-error.js';
import type { Workload } from '../kube/kube-types.js';
import { parseLastRollback, type LastRollback } from '../kube/last-rollback.js';
import { withRetry } from '../kube/with-retry.js';
import type { ExecutionContext, ExecutionResult, Executor } from '../model/executor.js';
import type { Job } from '../model/job.js';
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
  retry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
}

export function withClusterIntents(inner: Executor, o: ClusterIntentOptions): Executor {
  const retryPolicy = o.retry ?? { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 };
  const retry = <T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> =>
    withRetry(fn, { ...retryPolicy, sleep: abortableSleep, ...(signal ? { signal } : {}) });

  const mark = async (
    job: Job,
    ref: WorkloadRef,
    pinned?: { fromRevision?: number; toRevision?: number },
    signal?: AbortSignal,
  ) => {
    try {
      await retry(() => o.marks.mark(ref, pendingFor(job, o.identity, pinned), signal), signal);
    } catch (err) {
      o.logger.warn(
        { jobId: job.id, err: (err as Error).message },
        'could not mark the workload with the pending job; a failover before it ends would lose it',
      );
    }
  };

  const clear = async (job: Job, ref: WorkloadRef) => {
    try {
      await retry(() => o.marks.clear(ref, job.id));
    } catch (err) {
      o.logger.warn(
        { jobId: job.id, err: (err as Error).message },
        'could not clear the pending-job mark; a new leader would re-check this job',
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

  const run = async (
    job: Job,
    ctx: ExecutionContext,
    mode: 'execute' | 'recover',
  ): Promise<ExecutionResult> => {
    const ref = job.target;
    const direct = () =>
      mode === 'recover' && inner.recover ? inner.recover(job, ctx) : inner.execute(job, ctx);
    if (!ref) return direct();
    let workload: Workload | undefined;
    try {
      workload = await retry(() => o.marks.read(ref, ctx.signal), ctx.signal);
    } catch {
      // The executor reads it again and reports not-found or unreachable in its own words.
    }
    const annotations = workload?.metadata.annotations;
    const last = parseLastRollback(annotations);
    if (workload && last && last.jobId !== job.id && !job.patched) {
      const reason = forbidden(job, last);
      if (reason) {
        await clear(job, ref);
        return { outcome: 'skipped', reason };
      }
    }
    if (workload && parsePending(annotations)?.jobId !== job.id)
      await mark(job, ref, undefined, ctx.signal);

    // A job that may have acted before (adopted, recovering, or its record is on the workload)
    // goes through recover(): it follows an applied patch instead of patching again.
    const maybeActed = mode === 'recover' || job.origin === 'adopted' || last?.jobId === job.id;
    let result: ExecutionResult;
    try {
      result =
        maybeActed && inner.recover ? await inner.recover(job, ctx) : await inner.execute(job, ctx);
    } catch (err) {
      if (!ctx.signal.aborted && o.leading()) await clear(job, ref);
      throw err;
    }
    if (ctx.signal.aborted || !o.leading()) return result;
    await clear(job, ref);
    return result;
  };

  return {
    name: inner.name,
    availability: () => inner.availability(),
    plan: (job) => inner.plan(job),
    async pin(job) {
      const patch = inner.pin ? await inner.pin(job) : {};
      // Jobs held for approval are not marked: they wait for an operator on this replica.
      if (job.target && job.state === 'queued')
        await mark(job, job.target, patch.fromRevision !== undefined ? patch : {});
      return patch;
    },
    execute: (job, ctx) => run(job, ctx, 'execute'),
    recover: (job, ctx) => run(job, ctx, 'recover'),
    ...(inner.ownerResumed ? { ownerResumed: inner.ownerResumed.bind(inner) } : {}),
  };
}
