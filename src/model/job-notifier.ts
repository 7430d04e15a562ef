// What the queue needs from a notifier (Slack today). Fire-and-forget: never awaited on the
// rollback path, never throws.
import type { Job } from './job.js';
import type { WorkloadRef } from './workload-ref.js';

export type JobStage =
  | 'queued'
  | 'awaiting_approval'
  | 'started'
  | 'progress'
  | 'finished'
  | 'failed'
  | 'skipped'
  | 'expired'
  | 'recovered'
  | 'not_recovered';

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

export interface JobNotifier {
  readonly enabled: boolean;
  job(job: Job, stage: JobStage, opts?: { channel?: string }): void;
  decision(notice: DecisionNotice, opts?: { channel?: string }): void;
  flush(timeoutMs: number): Promise<void>;
}

export const silentNotifier: JobNotifier = {
  enabled: false,
  job: () => undefined,
  decision: () => undefined,
  flush: async () => undefined,
};
