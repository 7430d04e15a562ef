// Runs jobs through p-queue: one job per target at a time (the state keeps at most one active
// job per target), `concurrency` jobs across targets, nothing started while paused. Executors
// report progress as data; everything they report is journaled and mirrored to Slack/metrics.
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type {
  ExecutionContext,
  ExecutionResult,
  Executor,
  JobPatch,
  ProgressEvent,
} from '../model/executor.js';
import type { Metrics } from '../observability/metrics.js';
import type { ControllerState } from './controller-state.js';
import { ConflictError, NotFoundError, UnavailableError } from '../model/errors.js';
import { TERMINAL_STATES, type ExecutorName, type Job, type TimelineEntry } from '../model/job.js';
import type { JobNotifier } from '../model/job-notifier.js';
import type { JournalRecord } from './journal-record.js';

export interface RunnerOptions {
  state: ControllerState;
  append(records: JournalRecord[]): Promise<void>;
  executors: Partial<Record<ExecutorName, Executor>>;
  metrics: Metrics;
  notifier: JobNotifier;
  logger: Logger;
  now: () => number;
  concurrency: number;
  rolloutDeadlineMs: number;
  verificationWindowMs: number;
  channelFor?: (job: Job) => string | undefined;
}

export class JobRunner {
  private readonly queue: PQueue;
  private readonly running = new Map<string, { ctrl: AbortController; done: Promise<void> }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  /** High availability: another replica leads; jobs it interrupted wait here for activate(). */
  private standingBy = false;
  private readonly handedBack = new Set<string>();

  constructor(private readonly o: RunnerOptions) {
    this.queue = new PQueue({ concurrency: o.concurrency, autoStart: !o.state.paused });
  }

  get depth(): number {
    return this.o.state.count('queued');
  }

  get inProgress(): number {
    return this.running.size;
  }

  /** Replays what the journal left: re-checks interrupted jobs, re-queues queued ones, re-arms timers. */
  start(): void {
    const jobs = [...this.o.state.jobs.values()];
    for (const job of jobs) {
      if (job.state === 'running') this.schedule(job.id, 'recover');
    }
    for (const job of jobs) {
      if (job.state === 'queued') this.enqueue(job);
      if (job.state === 'awaiting_approval') this.armExpiry(job);
      if (job.verdict === 'pending') this.armVerification(job);
    }
    this.updateGauges();
  }

  /**
   * A freshly recorded job: pin the revision that is current now (the bad one) before it can
   * start, so a deploy that lands between the alert and the job is never undone by it.
   */
  accepted(job: Job): void {
    const held = job.state === 'awaiting_approval';
    this.o.notifier.job(job, held ? 'awaiting_approval' : 'queued', this.channel(job));
    if (held) this.armExpiry(job);
    this.track(
      this.pin(job).finally(() => {
        if (!held) this.enqueue(job);
      }),
    );
  }

  enqueue(job: Job): void {
    this.schedule(job.id, 'execute');
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
      if (this.o.state.jobs.get(id)?.state === 'running') this.schedule(id, 'recover');
    }
    this.handedBack.clear();
    if (!this.stopping && !this.o.state.paused) this.queue.start();
  }

  async approve(id: string, by: string): Promise<Job> {
    const job = this.o.state.jobs.get(id);
    if (!job) throw new NotFoundError(`job ${id} not found`);
    if (job.state !== 'awaiting_approval')
      throw new ConflictError(`job ${id} is ${job.state}, not awaiting approval`);
    const now = this.o.now();
    if (job.approval && Date.parse(job.approval.expiresAt) <= now) {
      await this.expire(job.id);
      throw new ConflictError(`approval for job ${id} expired at ${job.approval.expiresAt}`);
    }
    const at = new Date(now).toISOString();
    const approved: Job = {
      ...job,
      state: 'queued',
      approval: { ...(job.approval ?? { expiresAt: at }), approvedAt: at, approvedBy: by },
      timeline: [...job.timeline, { at, event: 'approved', message: `approved by ${by}` }],
    };
    try {
      await this.persist(approved, true);
    } catch {
      throw new UnavailableError('the approval could not be recorded durably; retry');
    }
    this.o.notifier.job(approved, 'queued', this.channel(approved));
    this.enqueue(approved);
    return approved;
  }

  /** SIGTERM: start nothing new, give the running job `graceMs` to finish, then hand it back. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.queue.pause();
    this.queue.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const allDone = () => Promise.all([...this.running.values()].map((r) => r.done));
    await withTimeout(allDone(), graceMs);
    for (const r of this.running.values()) r.ctrl.abort(new Error('shutting down'));
    await withTimeout(allDone(), 5000);
  }

  private schedule(id: string, mode: 'execute' | 'recover'): void {
    this.track(this.queue.add(() => this.run(id, mode)));
    this.updateGauges();
  }

  private track(p: Promise<unknown>): void {
    void p.catch((err: unknown) => this.o.logger.error({ err }, 'job task failed unexpectedly'));
  }

  private channel(job: Job): { channel?: string } {
    const c = this.o.channelFor?.(job);
    return c ? { channel: c } : {};
  }

  private async pin(job: Job): Promise<void> {
    const executor = this.o.executors[job.executor];
    if (!executor?.pin) return;
    let patch: JobPatch;
    try {
      patch = await executor.pin(job);
    } catch (err) {
      this.o.logger.warn({ jobId: job.id, err }, 'pinning the current revision failed');
      return;
    }
    const current = this.o.state.jobs.get(job.id);
    // The job may already have started (and pinned itself); never overwrite what execute set.
    if (!current || current.fromRevision !== undefined || TERMINAL_STATES.has(current.state))
      return;
    const at = new Date(this.o.now()).toISOString();
    const message =
      patch.fromRevision !== undefined
        ? `pinned current revision ${patch.fromRevision}`
        : 'nothing to pin';
    await this.persist({
      ...current,
      ...patch,
      timeline: [...current.timeline, { at, event: 'pinned', message }],
    }).catch(() => undefined);
  }

  private async run(id: string, mode: 'execute' | 'recover'): Promise<void> {
    const initial = this.o.state.jobs.get(id);
    if (!initial) return;
    if (mode === 'execute' && initial.state !== 'queued') return;
    const ctrl = new AbortController();
    let done!: () => void;
    this.running.set(id, { ctrl, done: new Promise<void>((r) => (done = r)) });
    try {
      await this.runJob(initial, mode, ctrl);
    } finally {
      this.running.delete(id);
      done();
      this.updateGauges();
    }
  }

  private async runJob(
    initial: Job,
    mode: 'execute' | 'recover',
    ctrl: AbortController,
  ): Promise<void> {
    const id = initial.id;
    const executor = this.o.executors[initial.executor];
    const log = this.o.logger.child({ jobId: id });
    const at = new Date(this.o.now()).toISOString();
    const started = await this.mutate(id, (j) => ({
      ...j,
      state: 'running',
      startedAt: j.startedAt ?? at,
      timeline: [
        ...j.timeline,
        mode === 'recover'
          ? {
              at,
              event: 'recovering',
              message:
                'controller restarted while this job was running; re-checking the live state',
            }
          : { at, event: 'started', message: `started by the ${j.executor} executor` },
      ],
    }));
    this.updateGauges();
    if (mode === 'execute') this.o.notifier.job(started, 'started', this.channel(started));
    log.info({ targetKey: started.targetKey, mode }, 'job started');

    const ctx: ExecutionContext = {
      signal: ctrl.signal,
      deadlineMs: this.o.rolloutDeadlineMs,
      progress: (event: ProgressEvent) => {
        void this.mutate(id, (j) => this.addTimeline(j, event)).then((j) => {
          if (event.event === 'progress') this.o.notifier.job(j, 'progress', this.channel(j));
        });
      },
      update: async (patch: JobPatch) => {
        const before = this.o.state.jobs.get(id);
        const firstAction = patch.actedAt !== undefined && before?.actedAt === undefined;
        // Not strict: once a patch is applied the rollout must be followed even if the journal
        // cannot record it now; after a crash, recovery finds the job's own last-rollback
        // annotation on the workload and only follows, so nothing is applied twice.
        const j = await this.mutate(id, (cur) => ({ ...cur, ...patch }));
        if (firstAction && patch.actedAt) {
          const seconds = (Date.parse(patch.actedAt) - j.alert.receivedAt) / 1000;
          if (seconds >= 0) this.o.metrics.alertToAction.observe({ executor: j.executor }, seconds);
        }
      },
    };

    let result: ExecutionResult;
    try {
      if (!executor) {
        result = {
          outcome: 'failed',
          reason: `the ${started.executor} executor is not configured`,
        };
      } else if (mode === 'recover') {
        result = executor.recover
          ? await executor.recover(started, ctx)
          : {
              outcome: 'failed',
              reason: 'interrupted by a restart; this executor cannot resume a job',
            };
      } else {
        result = await executor.execute(started, ctx);
      }
    } catch (err) {
      result = {
        outcome: 'failed',
        reason: `executor error: ${(err as Error).message ?? String(err)}`.slice(0, 500),
      };
    }

    if (ctrl.signal.aborted && (this.stopping || this.standingBy)) {
      // Hand the job back: it stays `running` in the journal and is re-checked on the next start
      // (or, with high availability, by whichever replica leads next).
      const shutdown = this.stopping;
      await this.mutate(id, (j) =>
        this.addTimeline(j, {
          event: 'handed_back',
          message: shutdown
            ? 'controller shut down while the job was running; it will be re-checked on start'
            : 'leadership moved to another replica while the job was running; the leader re-checks it',
        }),
      );
      if (!shutdown) this.handedBack.add(id);
      log.warn(shutdown ? 'job handed back on shutdown' : 'job handed back: no longer the leader');
      return;
    }
    await this.finish(id, result, log);
  }

  private async finish(id: string, result: ExecutionResult, log: Logger): Promise<void> {
    const now = this.o.now();
    const at = new Date(now).toISOString();
    const job = await this.mutate(id, (running) => ({
      ...running,
      ...(result.fields ?? {}),
      state: result.outcome,
      outcome: result.outcome,
      reason: result.reason,
      finishedAt: at,
      ...(result.outcome === 'succeeded'
        ? running.alertResolvedAt
          ? { verdict: 'recovered' as const, recoverySeconds: 0 }
          : { verdict: 'pending' as const }
        : {}),
      timeline: [...running.timeline, { at, event: result.outcome, message: result.reason }],
    }));
    const labels = { trigger: job.trigger, executor: job.executor, outcome: result.outcome };
    this.o.metrics.jobs.inc(labels);
    if (job.startedAt)
      this.o.metrics.jobDuration.observe(
        labels,
        Math.max(0, (now - Date.parse(job.startedAt)) / 1000),
      );
    if (job.target) {
      this.o.metrics.lastRollback.set(
        { namespace: job.target.namespace, workload: job.target.name, outcome: result.outcome },
        now / 1000,
      );
    }
    this.o.notifier.job(
      job,
      result.outcome === 'succeeded' ? 'finished' : result.outcome,
      this.channel(job),
    );
    if (job.verdict === 'pending') this.armVerification(job);
    if (job.verdict === 'recovered') this.recovered(job);
    log.info({ outcome: result.outcome, reason: result.reason }, 'job finished');
  }

  private addTimeline(job: Job, event: ProgressEvent): Job {
    const entry: TimelineEntry = {
      at: new Date(this.o.now()).toISOString(),
      event: event.event,
      message: event.message,
    };
    if (event.data) entry.data = event.data;
    return { ...job, timeline: [...job.timeline, entry] };
  }

  /**
   * Read-modify-write of the job as it is in the state now (a coalesced alert may have been
   * attached meanwhile), then journal it. `strict` callers learn that the write failed.
   */
  private async mutate(id: string, fn: (job: Job) => Job, strict = false): Promise<Job> {
    const current = this.o.state.jobs.get(id);
    if (!current) throw new Error(`job ${id} vanished from the state`);
    const next = fn(current);
    await this.persist(next, strict);
    return next;
  }

  /** Applies a job snapshot and journals it. `strict` callers need to know the write failed. */
  private async persist(job: Job, strict = false): Promise<void> {
    const record: JournalRecord = { t: 'job', job };
    const undo = this.o.state.applyAll([record]);
    try {
      await this.o.append([record]);
    } catch (err) {
      if (strict) {
        undo();
        throw err;
      }
      this.o.logger.error(
        { jobId: job.id, err },
        'journal write failed; the job state is kept in memory',
      );
    }
  }

  private armTimer(atMs: number, fn: () => Promise<void>): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.track(fn());
      },
      Math.max(0, atMs - this.o.now()),
    );
    t.unref();
    this.timers.add(t);
  }

  private armExpiry(job: Job): void {
    if (job.approval) this.armTimer(Date.parse(job.approval.expiresAt), () => this.expire(job.id));
  }

  private async expire(id: string): Promise<void> {
    const job = this.o.state.jobs.get(id);
    if (job?.state !== 'awaiting_approval') return;
    const at = new Date(this.o.now()).toISOString();
    const expired: Job = {
      ...job,
      state: 'expired',
      finishedAt: at,
      reason: 'approval expired',
      timeline: [
        ...job.timeline,
        { at, event: 'expired', message: `no approval before ${job.approval?.expiresAt ?? at}` },
      ],
    };
    await this.persist(expired).catch(() => undefined);
    this.o.notifier.job(expired, 'expired', this.channel(expired));
    this.updateGauges();
  }

  private armVerification(job: Job): void {
    if (!job.finishedAt) return;
    this.armTimer(Date.parse(job.finishedAt) + this.o.verificationWindowMs, () =>
      this.verifyTimeout(job.id),
    );
  }

  private async verifyTimeout(id: string): Promise<void> {
    const job = this.o.state.jobs.get(id);
    if (job?.verdict !== 'pending') return;
    const at = new Date(this.o.now()).toISOString();
    const window = Math.round(this.o.verificationWindowMs / 1000);
    const updated: Job = {
      ...job,
      verdict: 'not_recovered',
      timeline: [
        ...job.timeline,
        {
          at,
          event: 'not_recovered',
          message: `the alert did not resolve within ${window}s of the rollback`,
        },
      ],
    };
    await this.persist(updated).catch(() => undefined);
    this.o.metrics.verdicts.inc({ trigger: job.trigger, verdict: 'not_recovered' });
    this.o.notifier.job(updated, 'not_recovered', this.channel(updated));
  }

  /** Adds a note to a job's timeline (e.g. what Slack was sent). Never throws. */
  note(id: string, entry: { event: string; message: string }): void {
    if (!this.o.state.jobs.has(id)) return;
    this.mutate(id, (j) => this.addTimeline(j, entry)).catch(() => undefined);
  }

  /** Called by the intake when a resolved alert closed a job's verification. */
  recovered(job: Job): void {
    this.o.metrics.verdicts.inc({ trigger: job.trigger, verdict: 'recovered' });
    if (job.recoverySeconds !== undefined)
      this.o.metrics.recovery.observe({ trigger: job.trigger }, job.recoverySeconds);
    this.o.notifier.job(job, 'recovered', this.channel(job));
  }

  updateGauges(): void {
    this.o.metrics.queueDepth.set(this.depth);
    this.o.metrics.jobsInProgress.set(this.running.size);
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first, without leaving a timer behind. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
