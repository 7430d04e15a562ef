// The job model shared by the queue, the executors, the journal, Slack and the HTTP API.
// Jobs are plain JSON so the journal can store and replay them as they are.
import type { Confidence, ScriptAction } from '../config/schema.js';
import type { JobOwner } from './owner.js';
import type { TimelineEvent } from './timeline-event.js';
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

/**
 * The states of a job. Only src/jobs/job-transitions.ts moves a job between them; its table
 * lists the legal moves.
 */
export const JobStates = {
  /** Held for an operator (confidence below auto-rollback); expires after `approvalTtlSeconds`. */
  AwaitingApproval: 'awaiting_approval',
  /** Waiting for its lane (one active job per target) and a free queue slot. */
  Queued: 'queued',
  /** An executor is acting, or a restart/leader change left it to be re-checked. */
  Running: 'running',
  /** Rolled back; the verdict then tracks whether the alert resolved. */
  Succeeded: 'succeeded',
  Failed: 'failed',
  /** Nothing to do (the workload moved on, opted out, or an earlier rollback covers it). */
  Skipped: 'skipped',
  /** Nobody approved it in time. */
  Expired: 'expired',
} as const;
export type JobState = (typeof JobStates)[keyof typeof JobStates];

export type JobOutcome = 'succeeded' | 'failed' | 'skipped';
/** After `succeeded`: did the triggering alert resolve within the verification window? */
export type Verdict = 'pending' | 'recovered' | 'not_recovered';
/** Where a job came from: an alert this replica accepted, or a mark a previous leader left. */
export type JobOrigin = 'alert' | 'adopted';

export interface TimelineEntry {
  at: string;
  event: TimelineEvent;
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

/** Where the app-mode Slack message of a job lives: kept with the job so edits survive restarts. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/** A Slack user who acted on a job from its message (Approve, Deny, Pause, Resume). */
export interface SlackAction {
  action: 'approve' | 'deny' | 'pause' | 'resume';
  user: { id: string; name: string };
  at: string;
}

export interface Job {
  id: string;
  /** Lane key: one active job per target ("Deployment/ns/name" or "script:path"). */
  targetKey: string;
  executor: ExecutorName;
  origin: JobOrigin;
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
  /** Who else manages the workload (Argo CD, Flux, Helm) and what the job did about it. */
  owner?: JobOwner;
  /** Set once the patch call returned: never patch twice for one job. */
  patched?: boolean;
  /**
   * The API server's record of this job's patch (generation produced, server time stamp) and the
   * Progressing condition seen before it: the rollout followed is the one this patch started.
   */
  rollout?: {
    generation?: number;
    patchedAt?: string;
    /**
     * templateDigest of the pod template the API server returned for our patch: a later
     * generation with another template is someone else's rollout (superseded-rollout.ts).
     * Absent in jobs journaled before it existed (then the rollout is followed as before).
     */
    templateDigest?: string;
    before?: { reason?: string; lastUpdateTime?: string; lastTransitionTime?: string };
    /** An Argo Rollouts Rollout: what the job did to it and the ReplicaSet it should end on. */
    argo?: {
      action: 'abort' | 'undo';
      /** `rollouts-pod-template-hash` of the ReplicaSet traffic should end on. */
      targetHash: string;
      badHash: string;
      fastTrack?: 'rollbackWindow' | 'promoteFull';
      /** workloadRef: the Deployment generation our patch produced. */
      workloadGeneration?: number;
    };
  };
  approval?: { expiresAt: string; approvedAt?: string; approvedBy?: string };
  scriptResult?: ScriptResult;
  verdict?: Verdict;
  /** The triggering alert resolved before the job finished (verification closes at once). */
  alertResolvedAt?: string;
  recoverySeconds?: number;
  /** App mode: the one Slack message that shows this job, edited in place at every stage. */
  slack?: SlackMessageRef;
  /**
   * App mode: journaled right before the message is first posted. With no `slack` beside it, a
   * process died between Slack's answer and the journal: the message is found by its metadata.
   */
  slackPosting?: { channel: string; at: string };
  /** Who acted on the job from Slack, in order. */
  slackActions?: SlackAction[];
  timeline: TimelineEntry[];
}
