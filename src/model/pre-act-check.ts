// The checks a job passes, in order, right before its executor acts (jobs/job-runner.ts runs
// them and says which one stopped a job). They live outside the executors so the runner shows
// every reason a job may not act: the workload's opt-out annotation (script jobs), the workload's
// own last-rollback record (cooldown and duplicates across replicas) and the pending-rollback mark
// that lets a new leader adopt the job (high availability).
import type { Job } from './job.js';

export type PreActVerdict =
  /** Go on. `follow`: the job may already have acted, so the executor only follows (recover). */
  { go: true; follow?: boolean } | { go: false; reason: string };

export interface PreActCheck {
  /** Shown in the runner's log. */
  readonly name: string;
  /** Whether the check concerns this job (its executor, whether it names a workload). */
  applies(job: Job): boolean;
  /** Also asked by a dry run (`POST /test`); such a check has no side effects. */
  readonly inDryRun?: boolean;
  check(job: Job, signal?: AbortSignal): Promise<PreActVerdict>;
  /** A freshly queued job was pinned (not called for jobs held for approval). */
  pinned?(job: Job): Promise<void>;
  /** The job ended here (or a check stopped it); not called when it is handed back. */
  ended?(job: Job): Promise<void>;
  /**
   * Every committed change of a job the check applies to (fire and forget): the pending mark
   * follows a job held for approval and the job's Slack message, which the queue never sees.
   */
  observe?(before: Job | undefined, after: Job): void;
}
