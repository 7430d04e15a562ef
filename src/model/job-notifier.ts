// What the queue needs from a notifier (Slack today). Fire-and-forget: never awaited on the
// rollback path, never throws.
import type { Job, SlackMessageRef } from './job.js';
import type { TimelineEvent } from './timeline-event.js';
import type { WorkloadRef } from './workload-ref.js';

/** Every stage of a job a notifier hears about, in the order a job goes through them. */
export const JOB_STAGES = [
  'queued',
  'awaiting_approval',
  'started',
  'progress',
  'finished',
  'failed',
  'skipped',
  'expired',
  'recovered',
  'not_recovered',
  /** A human turned a GitOps owner this job had suspended back on. */
  'owner_resumed',
  /** Someone pressed Pause or Resume on the job's Slack message (app mode re-renders it). */
  'slack_action',
] as const;
export type JobStage = (typeof JOB_STAGES)[number];

export interface DecisionNotice {
  alertname: string;
  decision: string;
  reason: string;
  trigger?: string;
  confidence?: string;
  target?: WorkloadRef;
  generatorURL?: string;
  labels: Record<string, string>;
}

/** Hears what was posted, so the job's timeline can record it. */
export type SentListener = (
  jobId: string,
  entry: { event: Extract<TimelineEvent, 'slack'>; message: string },
) => void;

/** The kill switch moved (pause or resume): posted so the channel knows why nothing happens. */
export interface KillSwitchNotice {
  paused: boolean;
  by: string;
  reason?: string;
}

export interface JobNotifier {
  readonly enabled: boolean;
  /** Registers a listener for successful sends (the controller notes them on the job). */
  onSent?(listener: SentListener): void;
  /**
   * App mode: a job's message was posted (first stage, or again after it was deleted). The
   * controller keeps the reference with the job, so later edits find it after a restart.
   */
  onPosted?(listener: (jobId: string, ref: SlackMessageRef) => void): void;
  /**
   * App mode: a job's message is about to be posted. The controller journals the intent first
   * (awaited), so a process that dies before the ref is journaled looks the message up instead
   * of posting a second one.
   */
  onPosting?(listener: (jobId: string, channel: string) => Promise<void>): void;
  killSwitch?(notice: KillSwitchNotice): void;
  job(job: Job, stage: JobStage, opts?: { channel?: string }): void;
  decision(notice: DecisionNotice, opts?: { channel?: string }): void;
  flush(timeoutMs: number): Promise<void>;
}

export const silentNotifier: JobNotifier = {
  enabled: false,
  onSent: () => undefined,
  job: () => undefined,
  decision: () => undefined,
  flush: async () => undefined,
};
