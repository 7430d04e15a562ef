// Decision kinds and their wire shape (contract.md "POST /trigger").
import type { Confidence } from '../config/schema.js';
import type { WorkloadRef } from './workload-ref.js';

export const DECISION_KINDS = [
  'queued',
  'coalesced',
  'duplicate',
  'cooldown',
  'paused',
  'circuit_open',
  'awaiting_approval',
  'notify_only',
  'unmapped',
  'resolved',
  'invalid_target',
] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** Decisions that start no job but that the deployment channel hears about on their own. */
export const NOTIFYING_DECISIONS: ReadonlySet<DecisionKind> = new Set([
  'cooldown',
  'circuit_open',
  'paused',
  'notify_only',
]);

export interface Decision {
  alertname: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  decision: DecisionKind;
  reason: string;
  jobId?: string;
  rule?: string;
  trigger?: string;
  confidence?: Confidence;
  target?: WorkloadRef;
  targetKey?: string;
}

/** Alertmanager's idempotency key for one alert instance: the fingerprint alone repeats across incidents. */
export function instanceKey(fingerprint: string, startsAt: string): string {
  return `${fingerprint}@${startsAt}`;
}
