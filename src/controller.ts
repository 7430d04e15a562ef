// The controller's use cases (trigger, dry run, jobs, decisions, pause/resume, approve) over the
// job engine (jobs/create-job-engine.ts) and the journal. HTTP routes are thin wrappers around
// these methods; the /status view is src/http/status-view.ts.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlertPayload } from './alerts/payload-schema.js';
import type { CompiledRule } from './config/compile-rules.js';
import type { Config } from './config/schema.js';
import { NOTIFYING_DECISIONS, type Decision } from './model/decision.js';
import type { Availability, Executor } from './model/executor.js';
import type { ReplicaLeadership } from './ha/replica-leadership.js';
import { takeAlerts } from './jobs/alert-intake.js';
import { DecisionHistory, type DecisionFilter } from './jobs/decision-history.js';
import { approveJob } from './jobs/approve-job.js';
import type { ControllerState, Retention } from './jobs/controller-state.js';
import { createJobEngine } from './jobs/create-job-engine.js';
import type { JobRunner } from './jobs/job-runner.js';
import type { JobStore } from './jobs/job-store.js';
import type { JobTimers, SetTimer } from './jobs/job-timers.js';
import type { OwnerWatch } from './jobs/owner-watch.js';
import { Journal, type JournalFs } from './jobs/journal.js';
import { compactAtStart } from './jobs/compact-at-start.js';
import type { JournalRecord } from './jobs/journal-record.js';
import { planDryRun, type DryRunPlan } from './jobs/plan-dry-run.js';
import { defined } from './model/defined.js';
import { UnavailableError } from './model/errors.js';
import type { ExecutorName, Job, JobState, SlackAction } from './model/job.js';
import { denyJob } from './jobs/deny-job.js';
import type { JobNotifier } from './model/job-notifier.js';
import type { PreActCheck } from './model/pre-act-check.js';
import type { Metrics } from './observability/metrics.js';
import type { KubeTarget } from './kube/load-kube-config.js';
import type { PermissionCheck } from './kube/permission-check.js';
import { logDecision } from './observability/log-decision.js';

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
  /** The API server and kubeconfig context this process patches through, when configured. */
  kubeTarget?: KubeTarget;
  /** Access reviews of what the enabled features need (reported, never a condition). */
  permissions?: PermissionCheck;
}

/** Prune while replaying every this many records. */
const REPLAY_PRUNE_EVERY = 10_000;

export function newJobId(now: number): string {
  return `${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}

export class RollbackController {
  readonly state: ControllerState;
  readonly journal: Journal<JournalRecord>;
  /** The one commit path: state, journal, and the listeners that follow a job's changes. */
  readonly store: JobStore;
  readonly runner: JobRunner;
  /** GitOps owners suspended by jobs and not yet turned back on (`suspendedOwners`). */
  readonly owners: OwnerWatch;
  readonly timers: JobTimers;
  /** Recent alert decisions with their reasons (`GET /decisions`). */
  readonly decisions = new DecisionHistory();
  readonly startedAt: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly updateGauges: () => void;
  private ready = false;
  private closing = false;

  constructor(private readonly o: ControllerOptions) {
    this.now = o.now ?? Date.now;
    this.newId = o.newId ?? (() => newJobId(this.now()));
    this.startedAt = this.now();
    this.journal = new Journal<JournalRecord>(o.dataDir, {
      ...defined({ fs: o.journalFs, fsync: o.fsync }),
      compactAboveBytes: o.config.journal.compactAboveMiB * 1024 * 1024,
    });
    const ruleByName = new Map(o.rules.map((r) => [r.name, r]));
    const engine = createJobEngine({
      append: (records, opts) => this.journal.append(records, opts),
      executors: o.executors,
      notifier: o.notifier,
      metrics: o.metrics,
      logger: o.logger,
      now: this.now,
      ...defined({ setTimer: o.setTimer, checks: o.checks, cluster: o.config.cluster.name }),
      concurrency: o.config.queue.concurrency,
      rolloutTimeoutMs: o.config.rollout.deadlineSeconds * 1000,
      verificationWindowMs: o.config.verification.windowSeconds * 1000,
      ownerCheckIntervalMs: o.config.policy.owners.resumeCheckSeconds * 1000,
      channelFor: (job: Job) => ruleByName.get(job.rule)?.slackChannel,
      standby: () => o.leadership?.standbyReason(),
    });
    this.state = engine.state;
    this.store = engine.store;
    this.timers = engine.timers;
    this.runner = engine.runner;
    this.owners = engine.owners;
    this.updateGauges = engine.updateGauges;
  }

  /**
   * Followers are ready too: they forward to the leader, and a replica that is never Ready would
   * stall the controller's own rolling updates and block node drains under a PodDisruptionBudget.
   */
  get isReady(): boolean {
    return this.ready && !this.closing;
  }

  /** What the controller was started with, for the /status view (src/http/status-view.ts). */
  get config(): Config {
    return this.o.config;
  }

  get rules(): readonly CompiledRule[] {
    return this.o.rules;
  }

  get version(): string {
    return this.o.version ?? '0.1.0';
  }

  get leadership(): ReplicaLeadership | undefined {
    return this.o.leadership;
  }

  get notificationsEnabled(): boolean {
    return this.o.notifier.enabled;
  }

  /** The controller's clock (injected in tests). */
  clock(): number {
    return this.now();
  }

  /** The cluster this controller serves (config `cluster.name` / ROLLBACK_CLUSTER_NAME), if set. */
  get clusterName(): string | undefined {
    return this.o.config.cluster.name;
  }

  /** The API server and context (or `in-cluster`) this process patches through, if any. */
  get kubeTarget(): KubeTarget | undefined {
    return this.o.kubeTarget;
  }

  get permissions(): PermissionCheck | undefined {
    return this.o.permissions;
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
    // The history is the journal's last decisions, read from its end once replay is done:
    // keeping every decision in the ring while replaying would hold each one far longer.
    const recent = await this.journal.tail(this.decisions.capacity, isDecisionLine);
    for (const r of recent)
      if (r.t === 'decision') this.decisions.add(this.withJobTarget(r.d), r.at);
    await compactAtStart(this.journal, this.snapshot(retention), this.o.logger);
    this.journal.snapshot = () => this.snapshot(retention);
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

  /** What compaction keeps: the state, then the recent decisions `/decisions` lists. */
  private snapshot(retention: Retention): Iterable<JournalRecord> {
    const state = this.state.snapshot(this.now(), retention);
    const decisions = this.decisions.records();
    return (function* () {
      yield* state;
      yield* decisions;
    })();
  }

  /** `log`: the request's logger, so each decision line carries its request id. */
  async trigger(payload: AlertPayload, log: Logger = this.o.logger): Promise<Decision[]> {
    if (this.closing) throw new UnavailableError('the controller is shutting down');
    this.mustLead();
    for (const a of payload.alerts) this.o.metrics.alertsReceived.inc({ status: a.status });
    if (this.state.count('queued') >= this.o.config.queue.maxPending) {
      throw new UnavailableError(
        `the job queue is full (${this.o.config.queue.maxPending} pending)`,
      );
    }
    const decidedAt = this.now();
    const result = await takeAlerts(payload, decidedAt, {
      store: this.store,
      rules: () => this.o.rules,
      policy: this.o.config.policy,
      cluster: this.o.config.cluster,
      newId: this.newId,
      starter: this.runner,
    });
    result.decisions.forEach((d, i) => {
      const explained = this.withJobTarget(d);
      logDecision(log, explained);
      this.decisions.add(explained, decidedAt);
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
            ...defined({ trigger: d.trigger, confidence: d.confidence, target: d.target }),
            ...(alert?.generatorURL ? { generatorURL: alert.generatorURL } : {}),
          },
          rule?.slackChannel ? { channel: rule.slackChannel } : {},
        );
      }
    });
    if (result.circuitOpened) this.o.leadership?.controllerStateChanged?.();
    for (const job of result.created)
      if (job.state === 'running') this.runner.startNow(job);
      else this.runner.accepted(job);
    return result.decisions;
  }

  /**
   * Duplicate and resolved alerts are decided before any rule is read: for the log and
   * `/decisions`, name the target and rule of the job the alert instance belongs to.
   */
  private withJobTarget(d: Decision): Decision {
    if (d.targetKey) return d;
    const job = d.jobId
      ? this.state.jobs.get(d.jobId)
      : this.state.jobsForAlert(d.fingerprint).at(-1);
    if (!job) return d;
    return {
      ...d,
      targetKey: job.targetKey,
      rule: d.rule ?? job.rule,
      ...(job.target ? { target: job.target } : {}),
    };
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

  listDecisions(filter: DecisionFilter) {
    return this.decisions.list(filter);
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
    this.o.notifier.killSwitch?.({ paused, by, ...(reason ? { reason } : {}) });
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

  async approve(id: string, by: string, slackUser?: SlackAction['user']): Promise<Job> {
    this.mustLead();
    const job = await approveJob(id, by, {
      store: this.store,
      now: this.now(),
      expire: (jobId) => this.timers.expire(jobId),
      slackUser,
    });
    this.runner.enqueue(job);
    return job;
  }

  /** An operator refused a held job from Slack: it ends skipped, nothing is changed. */
  async deny(id: string, by: string, slackUser: SlackAction['user']): Promise<Job> {
    this.mustLead();
    return denyJob(id, by, { store: this.store, now: this.now(), slackUser });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.timers.stop();
    this.owners.stop();
    await this.runner.stop(this.o.shutdownGraceMs ?? 20_000);
    await this.o.notifier.flush(3000);
    await this.store
      .writeNotes()
      .catch((err: unknown) =>
        this.o.logger.warn({ err }, 'could not journal the last timeline notes'),
      );
    await this.journal.close();
  }
}

/** A journal line holding a decision record (`JSON.stringify` puts `t` first). */
function isDecisionLine(line: string): boolean {
  return line.startsWith('{"t":"decision"');
}
