// The seam between the queue and the things that actually roll back. The queue owns ordering,
// the job store owns journaling (and, through its listeners, Slack and metrics); an executor
// owns one kind of action and reports progress as data.
import type { ImageChange, Job, JobOutcome, ScriptResult } from './job.js';
import type { OwnerKind, SuspendedOwner } from './owner.js';
import type { TimelineEvent } from './timeline-event.js';

/** A changed pod-template field other than an image (contract.md "POST /test": `changes.fields`). */
export interface FieldChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  /** Absent where only the name may be shown (env values, args) or the field is absent. */
  from?: unknown;
  to?: unknown;
}

export interface Availability {
  available: boolean;
  reason?: string;
}

/** What a dry run (and the start of a real run) would do. */
export interface Plan {
  /** `rollback` / `run_script`: would act; `skip` / `unavailable`: would not, `reason` says why. */
  action: 'rollback' | 'run_script' | 'skip' | 'unavailable';
  reason: string;
  fromRevision?: number;
  toRevision?: number;
  changes?: { images: ImageChange[]; fields: FieldChange[] };
  /** True when the API server accepted the patch with dryRun=All. */
  serverDryRun?: boolean;
  /** Who else manages the workload and what a rollback would do about it. */
  owner?: PlanOwner;
  /** The API server refused a call of the plan (403): the permission the identity lacks. */
  forbidden?: { verb: string; resource: string; namespace: string; message: string };
}

/** A dry run's view of the owner: the action that would be taken, in the future tense. */
export interface PlanOwner {
  owner: OwnerKind;
  name?: string;
  action: 'suspend' | 'skip' | 'note';
  reason: string;
  advice?: string;
  /** The objects that would be changed, in order, and how a human would undo each. */
  changes?: Array<{ object: string; change: string; resumeCommand: string }>;
}

/** The timeline events an executor reports. */
export type ExecutorEvent = Extract<
  TimelineEvent,
  | 'progress'
  | 'patched'
  | 'note'
  | 'patch_found'
  | 'script_started'
  | 'script_output'
  | 'script_terminating'
  | 'owner_suspended'
  | 'owner_restored'
>;

export interface ProgressEvent {
  event: ExecutorEvent;
  message: string;
  data?: Record<string, unknown>;
}

/** Partial job fields an executor sets as it goes (recorded on the job and journaled). */
export type JobPatch = Partial<
  Pick<
    Job,
    | 'fromRevision'
    | 'toRevision'
    | 'images'
    | 'patched'
    | 'rollout'
    | 'actedAt'
    | 'scriptResult'
    | 'owner'
  >
>;

export interface ExecutionContext {
  signal: AbortSignal;
  /** Record a timeline entry (and notify Slack). Never throws. */
  progress(event: ProgressEvent): void;
  /** Record fields on the job (journaled; kept in memory even if the journal is failing). Call with `{ patched: true }` right after patching. */
  update(patch: JobPatch): Promise<void>;
  /**
   * How long the action may take to complete, in milliseconds (a duration, not a time): counted
   * from when the executor acts (the patch lands, the script starts).
   */
  rolloutTimeoutMs: number;
}

export interface ExecutionResult {
  outcome: JobOutcome;
  reason: string;
  fields?: JobPatch;
}

export interface Executor {
  readonly name: 'kubernetes' | 'script';
  availability(): Promise<Availability>;
  /**
   * Record the revision that is current now (the bad one) on a freshly queued job. Called once,
   * outside the serialized lane, right after the job is durably queued. Never throws.
   */
  pin?(job: Job): Promise<JobPatch>;
  /**
   * True when execute() pins from the read it acts on, so a job that starts the moment it is
   * recorded needs no separate pin (one read less before acting).
   */
  readonly pinsOnExecute?: boolean;
  /** Dry run: no side effects. Never throws (failures become `unavailable`/`skip`). */
  plan(job: Job): Promise<Plan>;
  /** Perform the job. Expected failures are returned as outcomes, not thrown. */
  execute(job: Job, ctx: ExecutionContext): Promise<ExecutionResult>;
  /**
   * After a restart, a job found `running` in the journal: decide from the live state whether
   * it was applied (then follow it to the end) or not (then run it or skip it). Never patches twice.
   */
  recover?(job: Job, ctx: ExecutionContext): Promise<ExecutionResult>;
  /**
   * Whether a GitOps owner a job suspended has been turned back on by a human (or deleted).
   * Throws when the cluster cannot say.
   */
  ownerResumed?(owner: SuspendedOwner): Promise<boolean>;
}

export type { ScriptResult };
