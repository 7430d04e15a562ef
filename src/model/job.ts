// The job model shared by the queue, the executors, the journal, Slack and the HTTP API.
// Jobs are plain JSON so the journal can store and replay them as they are.
import type { Confidence, ScriptAction } from '../config/schema.js';
import type { WorkloadRef } from './workload-ref.js';

export type ExecutorName = 'kubernetes' | 'script';

/** The alert instance that created (or joined) a job; only what the job needs to act and explain. */
export interface AlertRef {
  alertname: string;
  fingerprint: string;
  startsAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL: string;
  externalURL: string;
  /** When the controller received it (ms since epoch): start of alert-to-action latency. */
  receivedAt: number;
}

export type JobState =
  'awaiting_approval' | 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'expired';

export type JobOutcome = 'succeeded' | 'failed' | 'skipped';
export type Verdict = 'pending' | 'recovered' | 'not_recovered';

export interface TimelineEntry {
  at: string;
  event: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface ScriptResult {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  timedOut: boolean;
  outputTail: string;
}

export interface ImageChange {
  container: string;
  from: string | null;
  to: string | null;
}

export interface Job {
  id: string;
  /** Lane key: one active job per target ("Deployment/ns/name" or "script:path"). */
  targetKey: string;
  executor: ExecutorName;
  target?: WorkloadRef;
  script?: ScriptAction;
  rule: string;
  trigger: string;
  confidence: Confidence;
  alert: AlertRef;
  /** Other alert instances attached to this job while it was queued or running. */
  coalesced: Array<Pick<AlertRef, 'alertname' | 'fingerprint' | 'startsAt'> & { at: string }>;
  state: JobState;
  createdAt: string;
  startedAt?: string;
  /** When the patch was applied or the script started. */
  actedAt?: string;
  finishedAt?: string;
  outcome?: JobOutcome;
  reason?: string;
  /** Revision that was current (the bad one), pinned as early as possible after the alert. */
  fromRevision?: number;
  /** Revision the job goes back to. */
  toRevision?: number;
  images?: ImageChange[];
  /** Set once the patch call returned: never patch twice for one job. */
  patched?: boolean;
  approval?: { expiresAt: string; approvedAt?: string; approvedBy?: string };
  script_result?: ScriptResult;
  verdict?: Verdict;
  /** The triggering alert resolved before the job finished (verification closes at once). */
  alertResolvedAt?: string;
  recoverySeconds?: number;
  timeline: TimelineEntry[];
}

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'expired',
]);
export const ACTIVE_STATES: ReadonlySet<JobState> = new Set([
  'awaiting_approval',
  'queued',
  'running',
]);
