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
//   keeps its mark: the new leader owns it now. A job held for approval is marked from the start
//   (the queue never sees it), and the mark is written again when what a new leader needs of
//   the job changes: its pin, its approval, its Slack message. Writes per job go one at a time,
//   the latest job's content winning, and none after the job ended here. A Deployment job then
//   waits (bounded) until the deployment controller has observed the generation the mark raised.
import type { Logger } from 'pino';
import { abortableSleep } from '../kube/abort-error.js';
import type { Workload } from '../kube/kube-types.js';
import { parseLastRollback, type LastRollback } from '../kube/last-rollback.js';
import { KUBE_RETRY, withRetry, type RetryPolicy } from '../kube/with-retry.js';
import { TERMINAL_STATES } from '../jobs/job-transitions.js';
import type { Job } from '../model/job.js';
import type { PreActCheck } from '../model/pre-act-check.js';
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
  /** How long a job waits for the deployment controller to observe its own mark (default 15 s). */
  observeMarkMs?: number;
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

  const markNow = async (job: Job, signal?: AbortSignal) => {
    try {
      await retry(() => o.marks.mark(job.target!, pendingFor(job, o.identity), signal), signal);
    } catch (err) {
      o.logger.warn(
        { jobId: job.id, err: (err as Error).message },
        'could not mark the workload with the pending job; a failover before it ends would lose it',
      );
    }
  };
  /** Per job: the write under way and the newest job content still to write. */
  const writes = new Map<string, { next?: Job; done: Promise<void> }>();
  /** Jobs that ended here (bounded): a late change must not mark their workload again. */
  const ended = new Set<string>();
  const mark = (job: Job, signal?: AbortSignal): Promise<void> => {
    if (ended.has(job.id)) return Promise.resolve();
    const under = writes.get(job.id);
    if (under) {
      under.next = job;
      return under.done;
    }
    const entry: { next?: Job; done: Promise<void> } = { next: job, done: Promise.resolve() };
    writes.set(job.id, entry);
    entry.done = (async () => {
      for (let j = entry.next; j; j = entry.next) {
        delete entry.next;
        if (!ended.has(j.id)) await markNow(j, signal);
      }
      writes.delete(job.id);
    })();
    return entry.done;
  };
  const end = async (job: Job) => {
    ended.add(job.id);
    if (ended.size > 1000) ended.delete(ended.values().next().value as string);
    await writes.get(job.id)?.done;
  };
  const clear = async (job: Job) => {
    try {
      await retry(() => o.marks.clear(job.target!, job.id));
    } catch (err) {
      o.logger.warn(
        { jobId: job.id, err: (err as Error).message },
        'could not clear the pending-job mark; a new leader would re-check this job',
      );
    }
  };
  /** What a new leader needs of the job changed (held jobs: anything it re-creates them from). */
  const markChanged = (before: Job | undefined, after: Job): boolean => {
    const slackMoved =
      before?.slack?.ts !== after.slack?.ts || before?.slack?.channel !== after.slack?.channel;
    if (after.state !== 'awaiting_approval')
      return before?.state === 'awaiting_approval' || (slackMoved && !!after.slack);
    return (
      !before ||
      before.state !== after.state ||
      before.fromRevision !== after.fromRevision ||
      before.toRevision !== after.toRevision ||
      slackMoved
    );
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

  /**
   * A Deployment's generation counts its annotations too, so the mark moved it; the executor
   * reads a generation the deployment controller has not observed as a newer change in flux and
   * skips. Wait (bounded) until the controller has observed it: a busy controller-manager then
   * delays the rollback instead of cancelling it. Past the bound the executor decides, as before.
   */
  const markObserved = async (job: Job, read: Workload | undefined, signal?: AbortSignal) => {
    const unobserved = (w: Workload | undefined) =>
      w?.metadata.generation !== undefined &&
      (w.status?.observedGeneration ?? 0) < w.metadata.generation;
    const deadline = o.now() + (o.observeMarkMs ?? 15_000);
    let w = read;
    while (unobserved(w) && !signal?.aborted) {
      if (o.now() >= deadline) {
        o.logger.warn(
          { jobId: job.id, generation: w?.metadata.generation },
          'the deployment controller has not observed the workload yet; the executor decides',
        );
        return;
      }
      await abortableSleep(200, signal).catch(() => undefined);
      w = await retry(() => o.marks.read(job.target!, signal), signal).catch(() => undefined);
    }
  };

  const pendingMark: PreActCheck = {
    name: 'pending-mark',
    applies,
    async check(job, signal) {
      let workload = seen.get(job);
      if (workload && parsePending(workload.metadata.annotations)?.jobId !== job.id) {
        await mark(job, signal);
        workload = await retry(() => o.marks.read(job.target!, signal), signal).catch(
          () => undefined,
        );
      }
      if (job.target?.kind === 'Deployment') await markObserved(job, workload, signal);
      return { go: true };
    },
    pinned: (job) => mark(job),
    async ended(job) {
      if (!o.leading()) return;
      await end(job);
      await clear(job);
    },
    observe(before, after) {
      if (!o.leading() || ended.has(after.id)) return;
      if (TERMINAL_STATES.has(after.state)) {
        // Denied or expired while held: the queue never ran it, so nothing else clears its mark.
        if (before?.state === 'awaiting_approval') void end(after).then(() => clear(after));
        return;
      }
      if (markChanged(before, after)) void mark(after);
    },
  };

  return [lastRollback, pendingMark];
}
