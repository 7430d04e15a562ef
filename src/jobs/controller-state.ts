// In-memory controller state rebuilt from the journal: jobs, handled alert instances, pause and
// circuit state. It is the PolicyView the pure decision reads. It changes only by applying
// journal records (replay and live commits alike); applyAll returns the undo the store runs
// when the journal cannot take them.
import type { PolicyView } from '../decide/decide-alert.js';
import type { DecisionKind } from '../model/decision.js';
import type { Job } from '../model/job.js';
import { TimelineEvent } from '../model/timeline-event.js';
import { ACTIVE_STATES } from './job-transitions.js';
import type { JournalRecord } from './journal-record.js';
import { defined } from '../model/defined.js';

export interface PauseState {
  paused: boolean;
  since?: number;
  by?: string;
  reason?: string;
}

export interface CircuitState {
  open: boolean;
  since?: number;
  reason?: string;
  /** Rollbacks before this time no longer count (set by resume). */
  resetAt: number;
}

interface Instance {
  decision: DecisionKind;
  jobId?: string;
  at: number;
}

export type Undo = () => void;

/** How long finished jobs and handled alert instances are kept (config `journal:`). */
export interface Retention {
  maxJobs: number;
  instanceMs: number;
}

const MAX_COALESCED = 100;

export class ControllerState implements PolicyView {
  readonly jobs = new Map<string, Job>();
  private readonly instances = new Map<string, Instance>();
  private readonly activeByTarget = new Map<string, string>();
  private readonly lastAction = new Map<string, number>();
  private readonly counts = new Map<Job['state'], number>();
  /** Succeeded jobs waiting for their alert to resolve (the verification loop). */
  readonly awaitingVerdict = new Set<string>();
  /** Job ids by their triggering alert's fingerprint: where a resolved notification lands. */
  private readonly byFingerprint = new Map<string, Set<string>>();
  pause: PauseState = { paused: false };
  circuit: CircuitState = { open: false, resetAt: 0 };

  get paused(): boolean {
    return this.pause.paused;
  }

  get circuitOpen(): boolean {
    return this.circuit.open;
  }

  instance(key: string): { decision: DecisionKind; jobId?: string } | undefined {
    return this.instances.get(key);
  }

  activeJob(targetKey: string): Job | undefined {
    const id = this.activeByTarget.get(targetKey);
    return id === undefined ? undefined : this.jobs.get(id);
  }

  lastActionAt(targetKey: string): number | undefined {
    return this.lastAction.get(targetKey);
  }

  rollbacksSince(sinceMs: number): number {
    return this.countSince(sinceMs, false);
  }

  actedSince(sinceMs: number): number {
    return this.countSince(sinceMs, true);
  }

  private countSince(sinceMs: number, actedOnly: boolean): number {
    const from = Math.max(sinceMs, this.circuit.resetAt);
    let n = 0;
    for (const job of this.jobs.values()) {
      if (actedOnly && !job.actedAt) continue;
      const at = countedAt(job);
      if (at !== undefined && at >= from) n++;
    }
    return n;
  }

  get instanceCount(): number {
    return this.instances.size;
  }

  /** Applies a record (used by replay and by live mutations alike). */
  apply(record: JournalRecord): void {
    switch (record.t) {
      case 'instance':
        this.instances.set(record.key, {
          decision: record.decision,
          at: record.at,
          ...defined({ jobId: record.jobId }),
        });
        break;
      case 'job':
        this.putJob(upgraded(record.job));
        break;
      case 'coalesce': {
        const job = this.jobs.get(record.jobId);
        if (!job) break;
        const entry = { ...record.alert, at: new Date(record.at).toISOString() };
        // Bounded: the decision log keeps every alert; the job keeps the latest ones.
        this.putJob({ ...job, coalesced: [...job.coalesced, entry].slice(-MAX_COALESCED) });
        break;
      }
      case 'pause':
        this.pause = record.paused
          ? {
              paused: true,
              since: record.at,
              ...defined({ by: record.by, reason: record.reason }),
            }
          : { paused: false };
        break;
      case 'circuit':
        this.circuit = record.open
          ? {
              open: true,
              since: record.at,
              resetAt: this.circuit.resetAt,
              ...defined({ reason: record.reason }),
            }
          : { open: false, resetAt: record.at };
        break;
      case 'decision':
        if (record.key) {
          this.instances.set(record.key, {
            decision: record.d.decision,
            at: record.at,
            ...defined({ jobId: record.d.jobId }),
          });
        }
        break;
    }
  }

  /** Applies records and returns how to take them back. */
  applyAll(records: JournalRecord[]): Undo {
    const before = records.map((r) => this.snapshotFor(r));
    for (const r of records) this.apply(r);
    return () => {
      for (let i = records.length - 1; i >= 0; i--) before[i]?.();
    };
  }

  private snapshotFor(record: JournalRecord): Undo | undefined {
    switch (record.t) {
      case 'instance':
      case 'decision': {
        const key = record.key;
        if (key === undefined) return undefined;
        const prev = this.instances.get(key);
        return () => (prev ? this.instances.set(key, prev) : this.instances.delete(key));
      }
      case 'job':
      case 'coalesce': {
        const id = record.t === 'job' ? record.job.id : record.jobId;
        const prev = this.jobs.get(id);
        return () => {
          if (prev) this.putJob(prev);
          else this.removeJob(id);
        };
      }
      case 'pause': {
        const prev = this.pause;
        return () => (this.pause = prev);
      }
      case 'circuit': {
        const prev = this.circuit;
        return () => (this.circuit = prev);
      }
    }
  }

  /** Jobs triggered by the alert with this fingerprint. */
  jobsForAlert(fingerprint: string): Job[] {
    const out: Job[] = [];
    for (const id of this.byFingerprint.get(fingerprint) ?? []) {
      const job = this.jobs.get(id);
      if (job) out.push(job);
    }
    return out;
  }

  /** Jobs in a state, kept as a count so the hot path never scans the job list. */
  count(state: Job['state']): number {
    return this.counts.get(state) ?? 0;
  }

  private putJob(job: Job): void {
    const prev = this.jobs.get(job.id);
    if (prev) this.counts.set(prev.state, this.count(prev.state) - 1);
    this.counts.set(job.state, this.count(job.state) + 1);
    const fp = job.alert.fingerprint;
    const ids = this.byFingerprint.get(fp) ?? new Set<string>();
    ids.add(job.id);
    this.byFingerprint.set(fp, ids);
    if (job.verdict === 'pending') this.awaitingVerdict.add(job.id);
    else this.awaitingVerdict.delete(job.id);
    this.jobs.set(job.id, job);
    if (ACTIVE_STATES.has(job.state)) this.activeByTarget.set(job.targetKey, job.id);
    else if (this.activeByTarget.get(job.targetKey) === job.id)
      this.activeByTarget.delete(job.targetKey);
    if (job.actedAt) {
      const at = Date.parse(job.actedAt);
      if (at > (this.lastAction.get(job.targetKey) ?? 0)) this.lastAction.set(job.targetKey, at);
    }
  }

  private removeJob(id: string): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    this.counts.set(job.state, this.count(job.state) - 1);
    this.awaitingVerdict.delete(id);
    const ids = this.byFingerprint.get(job.alert.fingerprint);
    ids?.delete(id);
    if (ids?.size === 0) this.byFingerprint.delete(job.alert.fingerprint);
    if (this.activeByTarget.get(job.targetKey) === id) this.activeByTarget.delete(job.targetKey);
  }

  /** Drops old finished jobs and expired instance keys (also used while replaying, to stay small). */
  prune(now: number, retention: Retention): void {
    let active = 0;
    for (const state of ACTIVE_STATES) active += this.count(state);
    if (this.jobs.size - active > retention.maxJobs) {
      const finished = [...this.jobs.values()].filter((j) => !ACTIVE_STATES.has(j.state));
      for (const job of finished.slice(0, Math.max(0, finished.length - retention.maxJobs)))
        this.removeJob(job.id);
    }
    for (const [key, inst] of this.instances)
      if (now - inst.at > retention.instanceMs) this.instances.delete(key);
  }

  /**
   * Prunes, then returns the records to compact to. What they hold is captured now (jobs and
   * instances are replaced, never mutated), so the snapshot is this moment's state even though
   * the journal writes it out a chunk at a time while new alerts arrive.
   */
  snapshot(now: number, retention: Retention): Iterable<JournalRecord> {
    this.prune(now, retention);
    const pause = this.pause;
    const circuit = this.circuit;
    const jobs = [...this.jobs.values()];
    const instances = [...this.instances];
    return (function* (): Generator<JournalRecord> {
      if (pause.paused) {
        yield {
          t: 'pause',
          at: pause.since ?? now,
          paused: true,
          ...defined({ by: pause.by, reason: pause.reason }),
        };
      }
      yield { t: 'circuit', at: circuit.resetAt, open: false };
      if (circuit.open) {
        yield {
          t: 'circuit',
          at: circuit.since ?? now,
          open: true,
          ...defined({ reason: circuit.reason }),
        };
      }
      for (const job of jobs) yield { t: 'job', job };
      for (const [key, inst] of instances) {
        yield {
          t: 'instance',
          at: inst.at,
          key,
          decision: inst.decision,
          ...defined({ jobId: inst.jobId }),
        };
      }
    })();
  }
}

/**
 * When a job counts as a rollback for the circuit breaker (contract.md "Rules", policy: only rollbacks that
 * acted, a patch applied or a script started). A job that may still act (queued, running, or
 * approved) counts from when it was let through, so a burst of alerts cannot slip past the breaker
 * before any of them acts; once it ends without acting (skipped, failed before acting, expired)
 * it no longer counts.
 */
function countedAt(job: Job): number | undefined {
  if (job.actedAt) return Date.parse(job.actedAt);
  if (job.state !== 'queued' && job.state !== 'running') return undefined;
  if (job.approval)
    return job.approval.approvedAt ? Date.parse(job.approval.approvedAt) : undefined;
  return Date.parse(job.createdAt);
}

/**
 * A job from a journal an earlier version wrote: `script_result` is `scriptResult` now, and
 * before `origin` existed an adopted job was marked only on its timeline.
 */
function upgraded(job: Job): Job {
  const legacy = job as Job & { script_result?: Job['scriptResult'] };
  if (legacy.script_result) {
    const { script_result: scriptResult, ...rest } = legacy;
    job = { ...rest, scriptResult };
  }
  if ((job as Partial<Job>).origin) return job;
  const adopted = job.timeline.some((e) => e.event === TimelineEvent.Adopted);
  return { ...job, origin: adopted ? 'adopted' : 'alert' };
}
