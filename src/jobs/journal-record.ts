// What the journal stores. Job records are full snapshots (latest wins on replay), so a lost
// intermediate update is healed by the next one.
import type { Decision, DecisionKind } from '../model/decision.js';
import type { Job } from '../model/job.js';

export type JournalRecord =
  | { t: 'decision'; at: number; d: Decision; key?: string }
  | { t: 'instance'; at: number; key: string; decision: DecisionKind; jobId?: string }
  | { t: 'job'; job: Job }
  /** An alert attached to an active job: a small record, so a storm keeps the journal linear. */
  | {
      t: 'coalesce';
      at: number;
      jobId: string;
      alert: { alertname: string; fingerprint: string; startsAt: string };
    }
  | { t: 'pause'; at: number; paused: boolean; by?: string; reason?: string }
  | { t: 'circuit'; at: number; open: boolean; reason?: string };
