// High availability: several replicas, exactly one acts.
//
// Every replica is Ready and in the Service; followers forward each authenticated API request to
// the leader at the URL it publishes on the Lease (src/http/forward-to-leader.ts). Readiness-based
// exclusion would keep followers never Ready, which stalls the controller's own rolling updates
// and makes a PodDisruptionBudget block draining the leader's node. The leader stays the only
// writer of decisions, jobs and workload patches. A failed forward (no leader yet, the leader
// just died) answers 503 and Alertmanager retries; a forward that timed out after the leader
// recorded it is answered `duplicate` on the retry (fingerprint + startsAt), never acted on twice.
// A follower's own controller refuses to decide, approve or pause (standbyReason) and its queue is
// on standby, so it can never act even if a request were served locally.
//
// A follower forwards only to a leader address it has verified (leader-address.ts: signed with
// the replica key and the holder's own pod address); until then, or when the check fails, it
// answers 503 and says why.
//
// The kill switch (pause) and the circuit breaker live in each replica's journal; the leader
// mirrors them on the Lease (controller-state-annotation.ts) and a new leader takes them over
// first, so an operator's pause survives the leader's death. Only a signed state can lift a pause.
//
// On becoming leader the replica adopts the jobs the previous leader left pending on workloads
// (cluster-intent-checks.ts), journals them under their original ids, and only then starts its
// queue and accepts alerts.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { abortableSleep } from '../kube/abort-error.js';
import type { KubeClient } from '../kube/kube-client.js';
import { ForbiddenError } from '../kube/kube-errors.js';
import type { PreActCheck } from '../model/pre-act-check.js';
import type { ControllerState } from '../jobs/controller-state.js';
import type { Job } from '../model/job.js';
import type { JournalRecord } from '../jobs/journal-record.js';
import { adoptionPlan } from './adoption-plan.js';
import type { ReplicaKey } from '../http/replica-key.js';
import {
  adoptionRecords,
  controllerStateOf,
  controllerStateSigned,
  parseControllerState,
  signControllerState,
  stateToAdopt,
  type ClusterControllerState,
} from './controller-state-annotation.js';
import type { HaSettings } from './ha-settings.js';
import { createKubeLeaseStore } from './kube-lease-store.js';
import { checkLeaderAddress, signLeaderAddress, type LeaderCheck } from './leader-address.js';
import { LeaseElector, type Leadership } from './lease-elector.js';
import type { LeaseRecord } from './lease-store.js';
import type { PendingRollback } from './pending-rollback.js';
import type { Redecision } from './redecide-mark.js';
import type { WorkloadRef } from '../model/workload-ref.js';
import type { LeaderRoute, ReplicaLeadership } from './replica-leadership.js';
import { clusterIntentChecks } from './cluster-intent-checks.js';
import { createWorkloadMarks, type WorkloadMarks } from './workload-marks.js';

/** The parts of the controller a takeover touches. */
export interface ControllerParts {
  state: ControllerState;
  /** The controller's commit path: applied, journaled, or undone when the journal fails. */
  store: { commit(records: JournalRecord[]): Promise<void> };
  runner: { standby(): Promise<void>; activate(): void; enqueue(job: Job): void };
  /** Journals pause/circuit records and lets the queue and metrics follow. */
  applyKillSwitch(records: JournalRecord[]): Promise<void>;
}

export interface HighAvailabilityOptions {
  settings: HaSettings;
  /** The process's one Kubernetes client. */
  client: KubeClient;
  cooldownMs: number;
  /** Namespaces to scan for pending jobs on takeover; undefined: cluster-wide. */
  namespaces?: readonly string[];
  /** The namespace policy, re-checked for every job adopted from a mark: why not, if denied. */
  namespaceDenied?: (namespace: string) => string | undefined;
  /** A mark's alert decided again under the current rules and policy before it is adopted. */
  redecide?: (pending: PendingRollback, ref: WorkloadRef) => Redecision;
  /** Signs what this replica publishes and verifies what others did; none: trust nothing. */
  key?: ReplicaKey;
  logger: Logger;
  now?: () => number;
  fieldManager?: string;
}

type Phase = 'follower' | 'taking_over' | 'leader';

export class HighAvailability implements ReplicaLeadership {
  readonly elector: LeaseElector;
  /** Drawn per process: a restarted replica accepts no forward signed for its previous process. */
  readonly epoch = randomBytes(16).toString('hex');
  readonly marks: WorkloadMarks;
  private readonly now: () => number;
  private readonly log: Logger;
  private phase: Phase = 'follower';
  private generation = 0;
  private parts?: ControllerParts;
  private unsubscribe?: () => void;
  private since: number | undefined;
  private adopted = 0;
  /** The newest signed controller state verified on the Lease or published here (by sequence). */
  private remembered: ClusterControllerState | undefined;
  /** Whether the Lease was ever seen held: then a missing state is suspicious, not a first start. */
  private hadHolders = false;
  /** The state content last published, and its sequence number. */
  private published: { content: string; seq: number } | undefined;
  /** The last leader address checked, and the verdict. */
  private checked?: {
    holder: string;
    url: string;
    signature?: string;
    at: number;
    check?: LeaderCheck;
  };

  constructor(private readonly o: HighAvailabilityOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.logger.child({ component: 'leader-election' });
    this.marks = createWorkloadMarks({
      kube: o.client,
      fieldManager: o.fieldManager ?? 'rollback-controller',
      ...(o.key ? { key: o.key } : {}),
      warn: (fields, message) => this.log.warn(fields, message),
    });
    this.elector = new LeaseElector({
      store: createKubeLeaseStore(o.client, {
        namespace: o.settings.leaseNamespace,
        name: o.settings.leaseName,
      }),
      identity: o.settings.identity,
      advertiseUrl: o.settings.advertiseUrl,
      ...(o.key
        ? {
            signLeader: (holder: string, url: string) =>
              signLeaderAddress(o.key as ReplicaKey, holder, url, this.epoch),
          }
        : {}),
      // Only once leading: while taking over, the predecessor's value stays until adopted.
      controllerState: () => (this.phase === 'leader' ? this.stateToPublish() : undefined),
      observe: (record) => this.observe(record),
      leaseDurationMs: o.settings.leaseDurationMs,
      renewDeadlineMs: o.settings.renewDeadlineMs,
      retryPeriodMs: o.settings.retryPeriodMs,
      now: this.now,
      logger: this.log,
    });
  }

  /** The checks before a Kubernetes job acts that keep its intent on the workload. */
  preActChecks(): PreActCheck[] {
    return clusterIntentChecks({
      marks: this.marks,
      identity: this.o.settings.identity,
      cooldownMs: this.o.cooldownMs,
      leading: () => this.phase === 'leader',
      now: this.now,
      logger: this.log,
    });
  }

  /** Before the controller opens: nothing starts until this replica leads. */
  attach(parts: ControllerParts): void {
    this.parts = parts;
    void parts.runner.standby();
  }

  start(): void {
    this.unsubscribe = this.elector.onChange((l) => this.changed(l));
    this.elector.start();
  }

  /** After the controller closed (its running job finished or handed back): release the Lease. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.generation++;
    await this.elector.stop({ release: this.phase !== 'follower' });
    this.phase = 'follower';
  }

  get identity(): string {
    return this.o.settings.identity;
  }

  standbyReason(): string | undefined {
    if (this.phase === 'leader') return undefined;
    if (this.phase === 'taking_over') return 'taking over as leader (adopting pending jobs)';
    const holder = this.elector.holder;
    return holder ? `follower (leader is ${holder})` : 'follower (no leader elected yet)';
  }

  route(): LeaderRoute {
    if (this.phase !== 'follower') return { to: 'self' };
    const holder = this.elector.holder;
    const url = this.elector.holderUrl;
    if (!holder) return { to: 'nobody', reason: 'no leader elected yet' };
    // Our own name on the Lease while we stand by: we are stepping down or not yet stepped up.
    if (holder === this.o.settings.identity)
      return { to: 'nobody', reason: 'leadership is changing' };
    if (!url)
      return {
        to: 'nobody',
        reason: `the leader ${holder} publishes no URL on the Lease (an older version?)`,
      };
    const signature = this.elector.holderSignature;
    const c = this.checked;
    const same = c && c.holder === holder && c.url === url && c.signature === signature;
    // A failed check is repeated (the pod may have had no IP yet), at most once per retry period.
    if (!same || (c.check && !c.check.ok && this.now() - c.at >= this.o.settings.retryPeriodMs))
      this.checkLeader(holder, url, signature);
    const check = same ? c.check : undefined;
    if (!check) return { to: 'nobody', reason: `checking the address of the leader ${holder}` };
    return check.ok
      ? { to: 'leader', holder, url, epoch: check.epoch }
      : { to: 'nobody', reason: check.reason };
  }

  private checkLeader(holder: string, url: string, signature: string | undefined): void {
    const entry: NonNullable<typeof this.checked> = {
      holder,
      url,
      ...(signature !== undefined ? { signature } : {}),
      at: this.now(),
    };
    this.checked = entry;
    void checkLeaderAddress({
      holder,
      url,
      signature,
      key: this.o.key,
      namespace: this.o.settings.leaseNamespace,
      readPod: (ns, name) => this.o.client.readPodAddress(ns, name),
    }).then((check) => {
      entry.check = check;
      entry.at = this.now();
      if (!check.ok) this.log.error({ holder, url }, `not forwarding: ${check.reason}`);
    });
  }

  describe(): string {
    if (this.phase === 'leader') return 'leader';
    const r = this.route();
    if (r.to === 'leader') return `follower (forwarding to ${r.holder})`;
    if (r.to === 'nobody') return `follower (${r.reason})`;
    return this.standbyReason() ?? 'leader';
  }

  controllerStateChanged(): void {
    if (this.phase === 'leader') this.elector.renewNow();
  }

  status(): Record<string, unknown> {
    return {
      enabled: true,
      identity: this.o.settings.identity,
      role: this.phase,
      leader: this.phase === 'leader' ? this.o.settings.identity : (this.elector.holder ?? null),
      leaderUrl:
        this.phase === 'leader' ? this.o.settings.advertiseUrl : (this.elector.holderUrl ?? null),
      lease: this.elector.lease,
      leaseDurationSeconds: this.o.settings.leaseDurationMs / 1000,
      leadingSince: this.since !== undefined ? new Date(this.since).toISOString() : null,
      adoptedJobs: this.adopted,
    };
  }

  private changed(l: Leadership): void {
    // Check a new leader's address now, before the first request needs it.
    if (!l.leading && this.phase === 'follower') this.route();
    if (l.leading && this.phase === 'follower') {
      void this.takeOver(++this.generation);
    } else if (!l.leading && this.phase !== 'follower') {
      this.generation++;
      this.phase = 'follower';
      this.since = undefined;
      this.log.warn({ holder: l.holder ?? null }, 'no longer the leader: standing by');
      void this.parts?.runner.standby();
    }
  }

  private async takeOver(gen: number): Promise<void> {
    const parts = this.parts;
    if (!parts) return;
    this.phase = 'taking_over';
    while (gen === this.generation) {
      try {
        await this.adoptControllerState(parts);
        if (gen !== this.generation) return;
        const marked = await this.marks.list(this.o.namespaces);
        if (gen !== this.generation) return;
        const plan = adoptionPlan(marked, parts.state, {
          now: this.now(),
          identity: this.o.settings.identity,
          ...(this.o.namespaceDenied ? { namespaceDenied: this.o.namespaceDenied } : {}),
          ...(this.o.redecide ? { redecide: this.o.redecide } : {}),
        });
        await parts.store.commit(plan.records);
        if (gen !== this.generation) return;
        for (const i of plan.ignored) this.log.warn(i, 'pending-rollback mark left alone');
        this.lead(parts);
        for (const job of plan.adopt) {
          this.log.warn(
            { jobId: job.id, targetKey: job.targetKey, fromRevision: job.fromRevision },
            'adopted a pending job from the previous leader',
          );
          parts.runner.enqueue(job);
        }
        this.adopted += plan.adopt.length;
        for (const c of plan.clear) {
          this.marks
            .clear(c.ref, c.jobId)
            .then(() => this.log.info(c, 'cleared a stale pending-rollback mark'))
            .catch((err: Error) => this.log.warn({ ...c, err: err.message }, 'could not clear'));
        }
        return;
      } catch (err) {
        if (err instanceof ForbiddenError) {
          // Leading without adoption beats never leading; the RBAC needs fixing either way.
          this.log.error(
            { err: err.message },
            'cannot list workloads to adopt pending jobs (grant list on deployments, statefulsets and daemonsets); leading without adopting',
          );
          if (gen === this.generation) this.lead(parts);
          return;
        }
        this.log.warn({ err: (err as Error).message }, 'taking over failed; retrying');
        await abortableSleep(this.o.settings.retryPeriodMs);
      }
    }
  }

  /** The signed state a leader publishes; its sequence grows whenever the content changes. */
  private stateToPublish(): string | undefined {
    if (!this.parts) return undefined;
    const state = controllerStateOf(this.parts.state);
    const content = JSON.stringify(state);
    if (this.published?.content !== content) {
      const seq = Math.max(this.published?.seq ?? 0, this.remembered?.seq ?? 0) + 1;
      this.published = { content, seq };
    }
    const signed = signControllerState({ ...state, seq: this.published.seq }, this.o.key);
    if (this.o.key) this.remembered = signed;
    return JSON.stringify(signed);
  }

  /** Every Lease read: remember whether it was ever held, and the newest signed state on it. */
  private observe(record: LeaseRecord): void {
    if (record.holderIdentity || record.acquireTime || record.leaseTransitions > 0)
      this.hadHolders = true;
    if (this.phase === 'leader') return;
    const parsed = parseControllerState(record.controllerState);
    if (!parsed || !('state' in parsed) || !controllerStateSigned(parsed.state, this.o.key)) return;
    const seq = parsed.state.seq ?? 0;
    if (seq <= (this.remembered?.seq ?? -1)) return;
    this.remembered = parsed.state;
    this.log.info(
      { seq, paused: parsed.state.paused, circuitOpen: parsed.state.circuitOpen },
      'verified the controller state the leader published',
    );
  }

  /**
   * Before anything runs: take over the pause and circuit state, the newest of this replica's own
   * journal and the newest signed state (on the Lease now or verified while following).
   */
  private async adoptControllerState(parts: ControllerParts): Promise<void> {
    const choice = stateToAdopt({
      raw: this.elector.controllerState,
      remembered: this.remembered,
      hadHolders: this.hadHolders,
      key: this.o.key,
    });
    if (choice.warning) this.log.error({ cluster: choice.signed }, choice.warning);
    const records = choice.signed ? adoptionRecords(parts.state, choice.signed, true) : [];
    if (records.length) await parts.applyKillSwitch(records);
    if (choice.unsigned) {
      const safe = adoptionRecords(parts.state, choice.unsigned, false);
      if (adoptionRecords(parts.state, choice.unsigned, true).length > safe.length)
        this.log.error(
          { cluster: choice.unsigned },
          'the controller state on the lease would lift a pause or close the circuit breaker but carries no valid signature (someone else wrote the Lease?): keeping this replica’s safer state',
        );
      if (safe.length) await parts.applyKillSwitch(safe);
      records.push(...safe);
    }
    if (choice.failSafe && !parts.state.paused) {
      const pause: JournalRecord = {
        t: 'pause',
        at: this.now(),
        paused: true,
        by: 'rollback-controller',
        reason: choice.failSafe,
      };
      await parts.applyKillSwitch([pause]);
      records.push(pause);
      this.log.error(choice.failSafe);
    }
    if (!records.length) return;
    this.log.warn(
      {
        cluster: choice.signed ?? choice.unsigned ?? null,
        paused: parts.state.paused,
        circuitOpen: parts.state.circuitOpen,
      },
      'took over the pause and circuit-breaker state published by the previous leader',
    );
  }

  private lead(parts: ControllerParts): void {
    this.phase = 'leader';
    this.since = this.now();
    parts.runner.activate();
    // Publish this replica's state (possibly its own, later than the Lease's) right away.
    this.elector.renewNow();
    this.log.info(
      { identity: this.o.settings.identity },
      'leading: accepting alerts and running jobs',
    );
  }
}
