// The one commit path: apply records to the in-memory state, append them to the journal, undo
// them if the append fails. Listeners (Slack, metrics, timers) hear about a job only after its
// change is durable (notes excepted: see `note`), and hear the difference between the job
// before and after, so nothing has to remember to call them.
import type { Logger } from 'pino';
import type { Job } from '../model/job.js';
import type { ControllerState } from './controller-state.js';
import type { JournalRecord } from './journal-record.js';

/** `before` is undefined for a new job. */
export type JobChangeListener = (before: Job | undefined, after: Job) => void;
export type CommitListener = (records: readonly JournalRecord[]) => void;

export interface CommitOptions {
  /**
   * Keep the change in memory when the journal cannot take it (logged), instead of undoing it
   * and throwing. For what already happened in the world: a patch was applied, a job finished.
   */
  keepOnFailure?: boolean;
}

export interface JobStoreOptions {
  state: ControllerState;
  append(records: JournalRecord[]): Promise<void>;
  logger: Logger;
}

/** Records applied together and committed (or undone) together. */
export class Batch {
  private readonly records: JournalRecord[] = [];
  private readonly undos: Array<() => void> = [];
  private readonly before = new Map<string, Job | undefined>();

  constructor(private readonly store: JobStore) {}

  /** Applies records now, so later decisions in the same batch see them. */
  apply(records: JournalRecord[]): void {
    for (const r of records) {
      if (r.t !== 'job') continue;
      if (!this.before.has(r.job.id))
        this.before.set(r.job.id, this.store.state.jobs.get(r.job.id));
      // A job record carries the whole job, notes applied without a write of their own included.
      this.store.unwritten.delete(r.job.id);
    }
    this.undos.push(this.store.state.applyAll(records));
    this.records.push(...records);
  }

  get size(): number {
    return this.records.length;
  }

  async commit(o: CommitOptions = {}): Promise<void> {
    if (!this.records.length) return;
    try {
      await this.store.o.append(this.records);
    } catch (err) {
      if (!o.keepOnFailure) {
        for (let i = this.undos.length - 1; i >= 0; i--) this.undos[i]?.();
        throw err;
      }
      this.store.o.logger.error(
        { jobIds: [...this.before.keys()], err },
        'journal write failed; the job state is kept in memory',
      );
    }
    this.store.committed(this.records, this.before);
  }
}

export class JobStore {
  private readonly jobListeners: JobChangeListener[] = [];
  private readonly commitListeners: CommitListener[] = [];
  /** Jobs changed by `note` since their last journal record. */
  readonly unwritten = new Set<string>();

  constructor(readonly o: JobStoreOptions) {}

  get state(): ControllerState {
    return this.o.state;
  }

  get(id: string): Job | undefined {
    return this.o.state.jobs.get(id);
  }

  onJobChange(listener: JobChangeListener): void {
    this.jobListeners.push(listener);
  }

  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  begin(): Batch {
    return new Batch(this);
  }

  async commit(records: JournalRecord[], o: CommitOptions = {}): Promise<void> {
    const batch = this.begin();
    batch.apply(records);
    await batch.commit(o);
  }

  /**
   * Read-modify-write of the job as it is now (an alert may have been attached meanwhile), then
   * commit it. Returns the new job.
   */
  async update(id: string, change: (job: Job) => Job, o: CommitOptions = {}): Promise<Job> {
    const current = this.get(id);
    if (!current) throw new Error(`job ${id} vanished from the state`);
    const next = change(current);
    await this.commit([{ t: 'job', job: next }], o);
    return next;
  }

  /**
   * A change worth keeping but not worth a journal write of its own (what Slack was sent): it
   * is in memory at once, and reaches the journal with the job's next record, the next
   * compaction, or `writeNotes` at shutdown. Listeners hear it like any change.
   */
  note(id: string, change: (job: Job) => Job): void {
    const current = this.get(id);
    if (!current) return;
    const records: JournalRecord[] = [{ t: 'job', job: change(current) }];
    this.o.state.applyAll(records);
    this.unwritten.add(id);
    this.committed(records, new Map([[id, current]]));
  }

  /** Journals the jobs that changed only by notes (one write, at shutdown). */
  async writeNotes(): Promise<void> {
    const jobs = [...this.unwritten].flatMap((id) => {
      const job = this.get(id);
      return job ? [job] : [];
    });
    this.unwritten.clear();
    if (jobs.length) await this.o.append(jobs.map((job) => ({ t: 'job', job })));
  }

  /** Tells listeners what a batch changed; a listener that throws is logged, never the caller's problem. */
  committed(records: readonly JournalRecord[], before: ReadonlyMap<string, Job | undefined>): void {
    const after = new Map<string, Job>();
    for (const r of records) if (r.t === 'job') after.set(r.job.id, r.job);
    for (const [id, job] of after) {
      for (const l of this.jobListeners) this.safely(() => l(before.get(id), job), id);
    }
    for (const l of this.commitListeners) this.safely(() => l(records));
  }

  private safely(fn: () => void, jobId?: string): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.error({ err, ...(jobId ? { jobId } : {}) }, 'a job listener failed');
    }
  }
}
