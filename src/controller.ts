// The controller's use cases (trigger, dry run, status, jobs, pause/resume, approve) over the
// state, the journal and the queue. HTTP routes are thin wrappers around these methods.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlertPayload } from './alerts/payload-schema.js';
import type { CompiledRule } from './config/compile-rules.js';
import type { Config } from './config/schema.js';
import { NOTIFYING_DECISIONS, type Decision } from './model/decision.js';
import type { Availability, Executor } from './model/executor.js';
import type { ReplicaLeadership } from './ha/replica-leadership.js';
import { takeAlerts } from './jobs/alert-intake.js';
import { approveJob } from './jobs/approve-job.js';
import { ControllerState } from './jobs/controller-state.js';
import { JobRunner } from './jobs/job-runner.js';
import { JobStore } from './jobs/job-store.js';
import { JobTimers, type SetTimer } from './jobs/job-timers.js';
import { OwnerWatch } from './jobs/owner-watch.js';
import { Journal, type JournalFs } from './jobs/journal.js';
import type { JournalRecord } from './jobs/journal-record.js';
import { planDryRun, type DryRunPlan } from './jobs/plan-dry-run.js';
import { reportJobChange } from './jobs/report-job-change.js';
import { UnavailableError } from './model/errors.js';
import type { ExecutorName, Job, JobState } from './model/job.js';
import type { JobNotifier } from './model/job-notifier.js';
import type { PreActCheck } from './model/pre-act-check.js';
import type { Metrics } from './observability/metrics.js';

export interface ControllerOptions {
  config: Config;
  rules: CompiledRule[];
  dataDir: string;
  executors: Partial<Record<ExecutorName, Executor>>;
  /** What a job passes, in order, before its executor acts (opt-out, HA marks and cooldown). */
  checks?: readonly PreActCheck[];
  notifier: JobNotifier;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
  /** Approval expiry and verification timers (tests drive them by hand). */
  setTimer?: SetTimer;
  newId?: () => string;
  /** Reported by /status. */
  version?: string;
  journalFs?: JournalFs;
  fsync?: boolean;
  /** How long SIGTERM waits for a running job before handing it back. */
  shutdownGraceMs?: number;
  /**
   * High availability (src/ha/): only the leader accepts, approves, pauses and runs jobs;
   * followers forward API requests to it (src/http/forward-to-leader.ts).
   */
  leadership?: ReplicaLeadership;
}

/** Prune while replaying every this many records. */
const REPLAY_PRUNE_EVERY = 10_000;

export function newJobId(now: number): string {
  return `${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}

export class RollbackController {
  readonly state = new ControllerState();
  readonly journal: Journal<JournalRecord>;
  /** The one commit path: state, journal, and the listeners that follow a job's changes. */
  readonly store: JobStore;
  readonly runner: JobRunner;
  /** GitOps owners suspended by jobs and not yet turned back on (`suspendedOwners`). */
  readonly owners: OwnerWatch;
  readonly timers: JobTimers;
  readonly startedAt: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  private ready = false;
  private closing = false;

  constructor(private readonly o: ControllerOptions) {
    this.now = o.now ?? Date.now;
    this.newId = o.newId ?? (() => newJobId(this.now()));
    this.startedAt = this.now();
    this.journal = new Journal<JournalRecord>(o.dataDir, {
      ...(o.journalFs ? { fs: o.journalFs } : {}),
      ...(o.fsync !== undefined ? { fsync: o.fsync } : {}),
      compactAboveBytes: o.config.journal.compactAboveMiB * 1024 * 1024,
    });
    this.store = new JobStore({
      state: this.state,
      append: (records) => this.journal.append(records),
      logger: o.logger.child({ component: 'store' }),
    });
    this.timers = new JobTimers({
      store: this.store,
      now: this.now,
      verificationWindowMs: o.config.verification.windowSeconds * 1000,
      logger: o.logger.child({ component: 'timers' }),
      ...(o.setTimer ? { setTimer: o.setTimer } : {}),
    });
    this.runner = new JobRunner({
      store: this.store,
      executors: o.executors,
      metrics: o.metrics,
      logger: o.logger.child({ component: 'queue' }),
      now: this.now,
      concurrency: o.config.queue.concurrency,
      rolloutTimeoutMs: o.config.rollout.deadlineSeconds * 1000,
      ...(o.checks ? { checks: o.checks } : {}),
    });
    const ruleByName = new Map(o.rules.map((r) => [r.name, r]));
    const sinks = {
      notifier: o.notifier,
      metrics: o.metrics,
      channelFor: (job: Job) => ruleByName.get(job.rule)?.slackChannel,
    };
    this.store.onJobChange((before, after) => reportJobChange(before, after, sinks));
    this.store.onJobChange(this.timers.changed);
    this.owners = new OwnerWatch({
      store: this.store,
      executor: o.executors.kubernetes,
      metrics: o.metrics,
      logger: o.logger.child({ component: 'owners' }),
      now: this.now,
      intervalMs: o.config.policy.owners.resumeCheckSeconds * 1000,
      standby: () => o.leadership?.standbyReason(),
    });
    this.store.onCommit(() => this.updateGauges());
    o.notifier.onSent?.((jobId, entry) => this.runner.note(jobId, entry));
  }

  private updateGauges(): void {
    this.o.metrics.queueDepth.set(this.state.count('queued'));
    this.o.metrics.paused.set(this.state.paused ? 1 : 0);
    this.o.metrics.circuitOpen.set(this.state.circuitOpen ? 1 : 0);
    this.owners.updateGauge();
  }

  /**
   * Followers are ready too: they forward to the leader, and a replica that is never Ready would
   * stall the controller's own rolling updates and block node drains under a PodDisruptionBudget.
   */
  get isReady(): boolean {
    return this.ready && !this.closing;
  }

  /** The cluster this controller serves (config `cluster.name` / ROLLBACK_CLUSTER_NAME), if set. */
  get clusterName(): string | undefined {
    return this.o.config.cluster.name;
  }

  /** With leader election: "leader", "follower (forwarding to b)", ... (for /readyz). */
  get leaderCheck(): string | undefined {
    return this.o.leadership?.describe();
  }

  /**
   * The last guard: requests reach a follower's controller only when they could not be forwarded
   * (leadership moved mid-request, or a new leader is still adopting). It never acts; 503 makes
   * Alertmanager retry.
   */
  private mustLead(): void {
    const standby = this.o.leadership?.standbyReason();
    if (standby) throw new UnavailableError(`this replica cannot act now: ${standby}`);
  }

  /** Replays the journal, compacts it, and resumes whatever was in flight. */
  async open(): Promise<void> {
    const retention = {
      maxJobs: this.o.config.journal.maxJobs,
      instanceMs: this.o.config.journal.dedupRetentionHours * 3600_000,
    };
    // Records are applied as they stream in; pruning on the way keeps replay memory at the
    // state's size even for a journal full of jobs and alerts that retention drops anyway.
    let sincePrune = 0;
    const { count, torn } = await this.journal.open((r) => {
      this.state.apply(r);
      if (++sincePrune < REPLAY_PRUNE_EVERY) return;
      sincePrune = 0;
      this.state.prune(this.now(), retention);
    });
    if (torn) this.o.logger.warn({ torn }, 'journal had a torn tail (crash mid-write); it was cut');
    await this.journal.compact(this.state.snapshot(this.now(), retention));
    if (this.journal.lastSnapshotBytes > this.journal.compactAboveBytes) {
      this.o.logger.warn(
        {
          snapshotBytes: this.journal.lastSnapshotBytes,
          compactAboveBytes: this.journal.compactAboveBytes,
        },
        'the journal snapshot alone is above journal.compactAboveMiB: compaction now waits for twice the snapshot; lower journal.dedupRetentionHours or journal.maxJobs, or raise the threshold with the memory limit',
      );
    }
    this.journal.snapshot = () => this.state.snapshot(this.now(), retention);
    this.updateGauges();
    if (this.state.paused) this.runner.pause();
    for (const job of this.state.jobs.values()) this.timers.arm(job);
    this.runner.start();
    this.owners.start();
    this.ready = true;
    this.o.logger.info(
      { replayed: count, jobs: this.state.jobs.size, instances: this.state.instanceCount },
      'journal replayed',
    );
  }

  async trigger(payload: AlertPayload): Promise<Decision[]> {
    if (this.closing) throw new UnavailableError('the controller is shutting down');
    this.mustLead();
    for (const a of payload.alerts) this.o.metrics.alertsReceived.inc({ status: a.status });
    if (this.state.count('queued') >= this.o.config.queue.maxPending) {
      throw new UnavailableError(
        `the job queue is full (${this.o.config.queue.maxPending} pending)`,
      );
    }
    const result = await takeAlerts(payload, this.now(), {
      store: this.store,
      rules: () => this.o.rules,
      policy: this.o.config.policy,
      cluster: this.o.config.cluster,
      newId: this.newId,
    });
    result.decisions.forEach((d, i) => {
      this.o.metrics.decisions.inc({
        trigger: d.trigger ?? 'none',
        confidence: d.confidence ?? 'none',
        decision: d.decision,
      });
      const rule = result.rules[i];
      if (NOTIFYING_DECISIONS.has(d.decision)) {
        const alert = payload.alerts[i];
        this.o.notifier.decision(
          {
            alertname: d.alertname,
            decision: d.decision,
            reason: d.reason,
            labels: alert?.labels ?? {},
            ...(d.trigger ? { trigger: d.trigger } : {}),
            ...(d.confidence ? { confidence: d.confidence } : {}),
            ...(d.target ? { target: d.target } : {}),
            ...(alert?.generatorURL ? { generatorURL: alert.generatorURL } : {}),
          },
          rule?.slackChannel ? { channel: rule.slackChannel } : {},
        );
      }
    });
    if (result.circuitOpened) this.o.leadership?.controllerStateChanged?.();
    for (const job of result.created) this.runner.accepted(job);
    return result.decisions;
  }

  /** What `trigger` would decide now, plus the executor's plan; touches nothing. */
  async dryRun(payload: AlertPayload): Promise<DryRunPlan[]> {
    const now = this.now();
    const o = {
      ...this.o,
      policy: this.o.config.policy,
      cluster: this.o.config.cluster,
      view: this.state,
      now,
    };
    return Promise.all(payload.alerts.map((alert) => planDryRun(alert, payload.externalURL, o)));
  }

  async executorStatus(): Promise<Record<string, Availability>> {
    const out: Record<string, Availability> = {};
    await Promise.all(
      Object.entries(this.o.executors).map(async ([name, ex]) => {
        out[name] = ex
          ? await ex.availability().catch((e: Error) => ({ available: false, reason: e.message }))
          : { available: false };
      }),
    );
    return out;
  }

  async status(): Promise<Record<string, unknown>> {
    const policy = this.o.config.policy;
    const now = this.now();
    return {
      version: this.o.version ?? '0.1.0',
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      ready: this.isReady,
      ...(this.o.leadership ? { leadership: this.o.leadership.status() } : {}),
      cluster: {
        name: this.o.config.cluster.name ?? null,
        label: this.o.config.cluster.label,
        requireLabel: this.o.config.cluster.requireLabel,
      },
      paused: this.state.pause,
      circuit: {
        ...this.state.circuit,
        recentRollbacks: this.state.rollbacksSince(
          now - policy.circuitBreaker.windowSeconds * 1000,
        ),
        maxRollbacks: policy.circuitBreaker.maxRollbacks,
        windowSeconds: policy.circuitBreaker.windowSeconds,
      },
      queue: {
        depth: this.state.count('queued'),
        inProgress: this.runner.inProgress,
        concurrency: this.o.config.queue.concurrency,
        maxPending: this.o.config.queue.maxPending,
      },
      executors: await this.executorStatus(),
      suspendedOwners: this.owners.index.list().map((e) => ({
        owner: e.owner.owner,
        object: `${e.owner.object.kind} ${e.owner.object.namespace}/${e.owner.object.name}`,
        role: e.owner.role,
        change: e.owner.change,
        suspendedAt: e.owner.suspendedAt,
        resumeCommand: e.owner.resumeCommand,
        jobId: e.jobId,
        ...(e.target ? { target: `${e.target.kind} ${e.target.namespace}/${e.target.name}` } : {}),
      })),
      notifications: {
        slack: this.o.notifier.enabled ? 'enabled' : 'disabled (SLACK_WEBHOOK_URL not set)',
      },
      journal: {
        path: this.journal.path,
        bytes: this.journal.bytes,
        records: this.journal.records,
        lastError: this.journal.lastError ?? null,
      },
      policy,
      rules: this.o.rules.map((r) => ({
        name: r.name,
        alert: r.alert,
        matchers: r.matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`),
        trigger: r.trigger,
        confidence: r.confidence,
        autoRollback: r.autoRollback,
        action: r.script ? `script ${r.script.path}` : 'kubernetes rollout undo',
      })),
    };
  }

  listJobs(filter: { limit: number; state?: JobState; target?: string }): Job[] {
    const out: Job[] = [];
    const all = [...this.state.jobs.values()];
    for (let i = all.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const job = all[i];
      if (!job) continue;
      if (filter.state && job.state !== filter.state) continue;
      if (filter.target && !job.targetKey.includes(filter.target)) continue;
      out.push(job);
    }
    return out;
  }

  getJob(id: string): Job | undefined {
    return this.state.jobs.get(id);
  }

  async setPaused(paused: boolean, by: string, reason?: string): Promise<Record<string, unknown>> {
    this.mustLead();
    const now = this.now();
    const records: JournalRecord[] = [
      { t: 'pause', at: now, paused, by, ...(reason ? { reason } : {}) },
    ];
    // Resume also closes the circuit breaker and restarts its window.
    if (!paused) records.push({ t: 'circuit', at: now, open: false });
    await this.applyKillSwitch(records);
    this.o.logger.warn(
      { by, reason, paused },
      paused ? 'automatic rollbacks paused' : 'automatic rollbacks resumed',
    );
    return { paused: this.state.pause, circuit: this.state.circuit };
  }

  /**
   * Journals pause and circuit records, then lets the queue, the metrics and (with leader
   * election) the Lease follow. Also how a new leader takes over its predecessor's kill switch.
   */
  async applyKillSwitch(records: JournalRecord[]): Promise<void> {
    await this.store.commit(records);
    if (this.state.paused) this.runner.pause();
    else this.runner.resume();
    this.o.leadership?.controllerStateChanged?.();
  }

  async approve(id: string, by: string): Promise<Job> {
    this.mustLead();
    const job = await approveJob(id, by, {
      store: this.store,
      now: this.now(),
      expire: (jobId) => this.timers.expire(jobId),
    });
    this.runner.enqueue(job);
    return job;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.timers.stop();
    this.owners.stop();
    await this.runner.stop(this.o.shutdownGraceMs ?? 20_000);
    await this.o.notifier.flush(3000);
    await this.journal.close();
  }
}
