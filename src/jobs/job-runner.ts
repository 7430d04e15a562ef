// Runs jobs through p-queue: one job per target at a time (the state keeps at most one active
// job per target), `concurrency` jobs across targets, nothing started while paused. Before an
// executor acts, the job passes the pre-act checks in order (`checks`: opt-out, the workload's
// last-rollback record, the pending-rollback mark; model/pre-act-check.ts). Executors report
// progress as data; the store journals it and its listeners tell Slack and the metrics.
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type {
  ExecutionContext,
  ExecutionResult,
  Executor,
  JobPatch,
  ProgressEvent,
} from '../model/executor.js';
import type { ExecutorName, Job } from '../model/job.js';
import type { PreActCheck } from '../model/pre-act-check.js';
import type { Metrics } from '../observability/metrics.js';
import { jobLogBindings } from '../observability/job-log-bindings.js';
import * as step from './job-transitions.js';
import type { JobStore } from './job-store.js';

export interface RunnerOptions {
  store: JobStore;
  executors: Partial<Record<ExecutorName, Executor>>;
  metrics: Pick<Metrics, 'jobsInProgress'>;
  logger: Logger;
  now: () => number;
  concurrency: number;
  /** How long an executor may take to see its rollout (or script) through, from when it acts. */
  rolloutTimeoutMs: number;
  /** What a job must pass before its executor acts, in this order (see runChecks). */
  checks?: readonly PreActCheck[];
  /** Called when this replica leads again (HA): the job timers run what came due meanwhile. */
  onActivate?: () => void;
}

/** `started`: recorded as started by the intake, in the same journal batch as its decision. */
type Mode = 'execute' | 'recover' | 'started';
/** Best effort: once something happened in the world, the job must go on even if the journal cannot record it. */
const KEEP = { keepOnFailure: true } as const;

export class JobRunner {
  /** Pins under way (see runJob: with high availability nothing acts before they are done). */
  private readonly pinning = new Set<Promise<void>>();
  private readonly queue: PQueue;
  private readonly running = new Map<string, { ctrl: AbortController; done: Promise<void> }>();
  private stopping = false;
  /** High availability: another replica leads; jobs it interrupted wait here for activate(). */
  private standingBy = false;
  private readonly handedBack = new Set<string>();
  /** Slots promised to jobs the intake is recording as started (reserveStart). */
  private reserved = 0;

  constructor(private readonly o: RunnerOptions) {
    this.queue = new PQueue({ concurrency: o.concurrency });
  }

  get inProgress(): number {
    return this.running.size;
  }

  /** Resumes what the journal left: re-checks interrupted jobs, re-queues queued ones. */
  start(): void {
    const jobs = [...this.o.store.state.jobs.values()];
    for (const job of jobs) if (job.state === 'running') this.schedule(job.id, 'recover');
    for (const job of jobs) if (job.state === 'queued') this.enqueue(job);
    this.updateGauge();
  }

  /**
   * A freshly recorded job: pin the revision that is current now (the bad one) before it can
   * start, so a deploy that lands between the alert and the job is never undone by it.
   */
  accepted(job: Job): void {
    const pinning = this.pin(job);
    this.pinning.add(pinning);
    this.track(
      pinning.finally(() => {
        this.pinning.delete(pinning);
        if (job.state === 'queued') this.enqueue(job);
      }),
    );
  }

  enqueue(job: Job): void {
    this.schedule(job.id, 'execute');
  }

  /**
   * Whether a job for `executor` recorded now would start at once: a free slot, nothing waiting, not paused,
   * stopping or standing by. True reserves the slot for the intake's batch, which records the
   * job already started (one journal write) and hands it to `startNow`, or `release`s the slot
   * when the batch fails.
   */
  reserveStart(executor: ExecutorName): boolean {
    // An executor that needs its pin before acting (a script gets the revisions in its
    // environment) takes the queue's path.
    if (!this.o.executors[executor]?.pinsOnExecute) return false;
    // A check that publishes the pin (high availability's pending mark, so a new leader never
    // goes past the pinned revision) needs it before the job acts: the queue's path too.
    if (this.o.checks?.some((c) => c.pinned !== undefined)) return false;
    const q = this.queue;
    const idle = !this.stopping && !this.standingBy && !q.isPaused && q.size === 0;
    if (!idle || q.pending + this.reserved >= this.o.concurrency) return false;
    this.reserved++;
    return true;
  }

  releaseStart(): void {
    this.reserved = Math.max(0, this.reserved - 1);
  }

  /**
   * A job the intake recorded already started (see reserveStart): it runs now, without a pin of
   * its own (the executor pins from the read it acts on) and without a second `started` record.
   */
  startNow(job: Job): void {
    this.releaseStart();
    this.schedule(job.id, 'started');
  }

  pause(): void {
    this.queue.pause();
  }

  resume(): void {
    if (!this.stopping && !this.standingBy) this.queue.start();
  }

  /**
   * High availability: this replica does not lead (any more). Start nothing and hand the running
   * jobs back: they stay `running` here, and their workload marks let the new leader adopt them.
   */
  async standby(graceMs = 5000): Promise<void> {
    this.standingBy = true;
    this.queue.pause();
    for (const r of this.running.values()) r.ctrl.abort(new Error('leadership moved'));
    await withTimeout(Promise.all([...this.running.values()].map((r) => r.done)), graceMs);
  }

  /** This replica leads: re-check the jobs it handed back, then run the queue unless paused. */
  activate(): void {
    this.standingBy = false;
    for (const id of this.handedBack) {
      if (this.o.store.get(id)?.state === 'running') this.schedule(id, 'recover');
    }
    this.handedBack.clear();
    this.o.onActivate?.();
    if (!this.stopping && !this.o.store.state.paused) this.queue.start();
  }

  /** SIGTERM: start nothing new, give the running job `graceMs` to finish, then hand it back. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.queue.pause();
    this.queue.clear();
    const allDone = () => Promise.all([...this.running.values()].map((r) => r.done));
    await withTimeout(allDone(), graceMs);
    for (const r of this.running.values()) r.ctrl.abort(new Error('shutting down'));
    await withTimeout(allDone(), 5000);
  }

  private schedule(id: string, mode: Mode): void {
    this.track(this.queue.add(() => this.run(id, mode)));
  }

  private track(p: Promise<unknown>): void {
    void p.catch((err: unknown) => this.o.logger.error({ err }, 'job task failed unexpectedly'));
  }

  private async pin(job: Job): Promise<void> {
    const executor = this.o.executors[job.executor];
    if (!executor?.pin) return;
    let patch: JobPatch;
    try {
      patch = await executor.pin(job);
    } catch (err) {
      this.o.logger.child(jobLogBindings(job)).warn({ err }, 'pinning the current revision failed');
      return;
    }
    const current = this.o.store.get(job.id);
    // The job may already have started (and pinned itself); never overwrite what execute set.
    if (!current || current.fromRevision !== undefined || step.TERMINAL_STATES.has(current.state))
      return;
    await this.o.store
      .update(job.id, (j) => step.pinned(j, patch, this.o.now()), KEEP)
      .catch(() => undefined);
    // Jobs held for approval are not announced to the checks: they wait for an operator here.
    const pinned = this.o.store.get(job.id);
    if (pinned?.state !== 'queued') return;
    for (const c of this.checksFor(pinned)) await c.pinned?.(pinned).catch(() => undefined);
  }

  private checksFor(job: Job): PreActCheck[] {
    return (this.o.checks ?? []).filter((c) => c.applies(job));
  }

  /**
   * The pre-act checks, in order; the first that says no stops the job. A check that throws
   * stops it too (fail closed). `follow`: the job may already have acted, so it only follows.
   */
  private async runChecks(
    job: Job,
    signal: AbortSignal,
  ): Promise<{ stop: string } | { follow: boolean }> {
    let follow = false;
    for (const c of this.checksFor(job)) {
      const verdict = await c.check(job, signal).catch((err: Error) => ({
        go: false as const,
        reason: `${c.name} check failed: ${err.message}`,
      }));
      if (!verdict.go) return { stop: verdict.reason };
      follow ||= verdict.follow === true;
    }
    return { follow };
  }

  /** Tells the checks the job ended here (a pending mark is cleared). Never throws. */
  private async ended(job: Job): Promise<void> {
    for (const c of this.checksFor(job)) await c.ended?.(job).catch(() => undefined);
  }

  private async run(id: string, mode: Mode): Promise<void> {
    const initial = this.o.store.get(id);
    if (initial?.state !== (mode === 'execute' ? 'queued' : 'running')) return;
    const ctrl = new AbortController();
    let done!: () => void;
    this.running.set(id, { ctrl, done: new Promise<void>((r) => (done = r)) });
    this.updateGauge();
    try {
      await this.runJob(id, mode, ctrl);
    } finally {
      this.running.delete(id);
      done();
      this.updateGauge();
    }
  }

  private async runJob(id: string, mode: Mode, ctrl: AbortController): Promise<void> {
    const recorded = this.o.store.get(id);
    if (!recorded) return;
    const started =
      mode === 'started'
        ? recorded
        : await this.o.store.update(
            id,
            (j) =>
              mode === 'recover' ? step.recover(j, this.o.now()) : step.start(j, this.o.now()),
            KEEP,
          );
    const log = this.o.logger.child(jobLogBindings(started));
    log.info({ mode }, 'job started');

    // High availability: nothing acts before every job accepted so far has published its pin
    // (the pending mark). A leader that dies right after this job's PATCH then leaves the new
    // leader a mark for each job still queued, however fast this one was.
    if (mode === 'execute' && this.o.checks?.some((c) => c.pinned !== undefined))
      await Promise.allSettled([...this.pinning]);
    const checked = await this.runChecks(started, ctrl.signal);
    let result: ExecutionResult;
    if ('stop' in checked) {
      log.info({ reason: checked.stop }, 'a pre-act check stopped the job');
      result = { outcome: 'skipped', reason: checked.stop };
    } else {
      const executor = this.o.executors[started.executor];
      const act: Mode = checked.follow && executor?.recover ? 'recover' : mode;
      result = await this.execute(started, act, this.context(id, ctrl.signal));
    }

    if (ctrl.signal.aborted && (this.stopping || this.standingBy)) {
      // Hand the job back: it stays `running` in the journal and is re-checked on the next start
      // (or, with high availability, by whichever replica leads next).
      const why = this.stopping ? 'shutdown' : 'leadership';
      await this.o.store.update(id, (j) => step.handBack(j, why, this.o.now()), KEEP);
      if (why === 'leadership') this.handedBack.add(id);
      log.warn(
        why === 'shutdown'
          ? 'job handed back on shutdown'
          : 'job handed back: no longer the leader',
      );
      return;
    }
    await this.ended(started);
    await this.o.store.update(id, (j) => step.finish(j, result, this.o.now()), KEEP);
    // A failed rollback needs a human (error); a skipped one is worth a look (warn).
    const level =
      result.outcome === 'failed' ? 'error' : result.outcome === 'skipped' ? 'warn' : 'info';
    log[level]({ outcome: result.outcome, reason: result.reason }, 'job finished');
  }

  private context(id: string, signal: AbortSignal): ExecutionContext {
    return {
      signal,
      rolloutTimeoutMs: this.o.rolloutTimeoutMs,
      progress: (event: ProgressEvent) => {
        this.o.store
          .update(id, (j) => step.noted(j, event, this.o.now()), KEEP)
          .catch(() => undefined);
      },
      // Kept even if the journal cannot record it now: after a crash, recovery finds the job's
      // own last-rollback annotation on the workload and only follows, so nothing is applied twice.
      update: async (patch: JobPatch) => {
        await this.o.store.update(id, (j) => step.recorded(j, patch), KEEP);
      },
    };
  }

  /** The executor's answer; expected failures are outcomes, and so is anything it throws. */
  private async execute(job: Job, mode: Mode, ctx: ExecutionContext): Promise<ExecutionResult> {
    const executor = this.o.executors[job.executor];
    try {
      if (!executor)
        return { outcome: 'failed', reason: `the ${job.executor} executor is not configured` };
      if (mode !== 'recover') return await executor.execute(job, ctx);
      if (executor.recover) return await executor.recover(job, ctx);
      return {
        outcome: 'failed',
        reason: 'interrupted by a restart; this executor cannot resume a job',
      };
    } catch (err) {
      return {
        outcome: 'failed',
        reason: `executor error: ${(err as Error).message ?? String(err)}`.slice(0, 500),
      };
    }
  }

  private updateGauge(): void {
    this.o.metrics.jobsInProgress.set(this.running.size);
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first, without leaving a timer behind. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
