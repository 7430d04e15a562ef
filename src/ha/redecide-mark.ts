// A pending-rollback mark is a previous leader's decision, not this one's: before a new leader
// adopts the job, the alert it names is decided again under the rules and policy this replica
// runs with now (a changed approval threshold, a rule turned notify-only, a namespace since
// denied). Only a decision to queue a rollback of this very workload is adopted. Pause, cooldown
// and the circuit breaker are left to the queue and its pre-act checks, as for any queued job.
// Pure: `now` is an input.
import type { Alert } from '../alerts/payload-schema.js';
import type { CompiledRule } from '../config/compile-rules.js';
import type { Policy } from '../config/schema.js';
import { decideAlert, type PolicyView } from '../decide/decide-alert.js';
import { workloadKey, type WorkloadRef } from '../model/workload-ref.js';
import type { PendingRollback } from './pending-rollback.js';

export type Redecision =
  | { ok: true; rule: string; trigger: string; confidence: PendingRollback['confidence'] }
  | { ok: false; why: string };

/** Nothing known about this alert or its target: the rules and the policy alone decide. */
const FRESH: PolicyView = {
  paused: false,
  circuitOpen: false,
  instance: () => undefined,
  activeJob: () => undefined,
  lastActionAt: () => undefined,
  rollbacksSince: () => 0,
};

export function redecideMark(
  pending: PendingRollback,
  ref: WorkloadRef,
  rules: readonly CompiledRule[],
  policy: Policy,
  now: number,
): Redecision {
  const alert: Alert = {
    status: 'firing',
    labels: { ...pending.labels, alertname: pending.alertname },
    annotations: {},
    startsAt: pending.startsAt,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint: pending.fingerprint,
  };
  const { decision: d } = decideAlert(alert, now, rules, policy, FRESH);
  // A job held for approval, or approved by a human, stays what it was: a rollback policy would
  // still hold for an operator is one (the human decides, or decided, the rest).
  const humanInTheLoop = pending.approval !== undefined && d.decision === 'awaiting_approval';
  if (d.decision !== 'queued' && !humanInTheLoop)
    return {
      ok: false,
      why: `decided again under the current rules and policy: ${d.decision} (${d.reason})`,
    };
  if (!d.target || workloadKey(d.target) !== workloadKey(ref))
    return {
      ok: false,
      why: `the alert's labels name ${d.targetKey ?? 'another target'}, not this workload`,
    };
  if (!d.rule || !d.trigger || !d.confidence) return { ok: false, why: 'no rule decided it' };
  return { ok: true, rule: d.rule, trigger: d.trigger, confidence: d.confidence };
}
