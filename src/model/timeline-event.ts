// Everything that can appear on a job's timeline, by name. The timeline explains a job to people
// (GET /jobs, Slack); behaviour never depends on searching it: state lives in the job's fields.
export const TimelineEvent = {
  // The job's life (src/jobs/job-transitions.ts).
  Queued: 'queued',
  AwaitingApproval: 'awaiting_approval',
  Approved: 'approved',
  Expired: 'expired',
  Pinned: 'pinned',
  Started: 'started',
  /** Re-checking the live state of a job found running after a restart or a leader change. */
  Recovering: 'recovering',
  HandedBack: 'handed_back',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Skipped: 'skipped',
  /** The verdict: the triggering alert resolved after the rollback (the only meaning). */
  Recovered: 'recovered',
  NotRecovered: 'not_recovered',
  AlertResolved: 'alert_resolved',
  /** Re-created by a new leader from the workload's pending-rollback mark. */
  Adopted: 'adopted',
  // Reported by executors (ExecutionContext.progress).
  Progress: 'progress',
  Patched: 'patched',
  /** recover() found the job's own patch applied before the restart: only the rollout is left. */
  PatchFound: 'patch_found',
  Note: 'note',
  ScriptStarted: 'script_started',
  ScriptOutput: 'script_output',
  ScriptTerminating: 'script_terminating',
  /** A GitOps owner was turned off so the rollback sticks (src/owners/). */
  OwnerSuspended: 'owner_suspended',
  /** The owners a job had suspended were turned back on because its patch never happened. */
  OwnerRestored: 'owner_restored',
  /** The controller noticed that a human turned a suspended owner back on. */
  OwnerResumed: 'owner_resumed',
  // Reported by the notifier: what was posted to Slack.
  Slack: 'slack',
} as const;
export type TimelineEvent = (typeof TimelineEvent)[keyof typeof TimelineEvent];
