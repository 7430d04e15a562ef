// The decision for one alert, as a pure function of the alert, the rules, the policy and a
// read-only view of controller state. No I/O, no clock: `now` is an input.
import type { Alert } from '../alerts/payload-schema.js';
import type { CompiledRule } from '../config/compile-rules.js';
import type { Confidence, Policy } from '../config/schema.js';
import { workloadKey, type WorkloadRef } from '../model/workload-ref.js';
import { instanceKey, type Decision, type DecisionKind } from '../model/decision.js';
import { matchRule } from './match-rule.js';
import { namespaceAllowed, resolveTarget } from './resolve-target.js';

export interface PolicyView {
  paused: boolean;
  circuitOpen: boolean;
  /** An earlier final decision for this alert instance (fingerprint + startsAt). */
  instance(key: string): { decision: DecisionKind; jobId?: string } | undefined;
  /** The job queued, running or awaiting approval for this target. */
  activeJob(targetKey: string): { id: string; state: string } | undefined;
  /** When the last rollback on this target acted (patch applied or script started), ms. */
  lastActionAt(targetKey: string): number | undefined;
  /**
   * Rollbacks since this time (ms) that count towards the circuit breaker: those that acted
   * (patch applied, script started) plus those still queued or running, which may act.
   */
  rollbacksSince(sinceMs: number): number;
  /** Of those, the ones that acted (default: all of them). Only these open the circuit. */
  actedSince?(sinceMs: number): number;
}

export type Effect =
  | { kind: 'none' }
  | { kind: 'new_job'; held: boolean }
  | { kind: 'coalesce'; jobId: string }
  | { kind: 'open_circuit'; reason: string };

export interface AlertDecision {
  decision: Decision;
  /** Record the instance as handled (re-sends become `duplicate`). */
  final: boolean;
  effect: Effect;
  rule?: CompiledRule;
}

const RANK: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };

function scriptTargetKey(rule: CompiledRule, labels: Record<string, string>): string {
  const ns = labels['namespace'] ?? '';
  const name = labels['deployment'] || labels['service'] || '';
  return `script:${rule.script?.path ?? ''}:${ns}/${name}`;
}

export function decideAlert(
  alert: Alert,
  now: number,
  rules: readonly CompiledRule[],
  policy: Policy,
  view: PolicyView,
): AlertDecision {
  const alertname = alert.labels['alertname'] ?? '';
  const base = { alertname, fingerprint: alert.fingerprint, status: alert.status };
  const done = (
    decision: DecisionKind,
    reason: string,
    extra: Partial<Decision> = {},
    final = false,
    effect: Effect = { kind: 'none' },
    rule?: CompiledRule,
  ): AlertDecision => {
    const out: AlertDecision = { decision: { ...base, ...extra, decision, reason }, final, effect };
    if (rule) out.rule = rule;
    return out;
  };

  if (alert.status === 'resolved')
    return done('resolved', 'resolved alerts are recorded and never trigger a rollback');

  const key = instanceKey(alert.fingerprint, alert.startsAt);
  const earlier = view.instance(key);
  if (earlier) {
    const job = earlier.jobId ? ` (job ${earlier.jobId})` : '';
    return done(
      'duplicate',
      `this alert instance was already handled: ${earlier.decision}${job}`,
      earlier.jobId ? { jobId: earlier.jobId } : {},
    );
  }

  const matched = matchRule(rules, alert.labels);
  if (!matched)
    return done(
      'unmapped',
      `no rule maps alert ${JSON.stringify(alertname)} with these labels${unmatched(rules, alert.labels)}`,
    );
  const rule = matched.rule;
  const ruleInfo: Partial<Decision> = {
    rule: rule.name,
    trigger: rule.trigger,
    confidence: rule.confidence,
  };
  if (matched.unevaluable)
    return done(
      'invalid_target',
      `rule ${rule.name} cannot be evaluated: ${matched.unevaluable} (a matcher never passes an alert on to the next rule)`,
      ruleInfo,
      false,
      { kind: 'none' },
      rule,
    );

  let targetKey: string;
  let target: WorkloadRef | undefined;
  if (rule.script) {
    const ns = alert.labels['namespace'];
    const denied = ns !== undefined && ns !== '' ? namespaceAllowed(ns, policy) : undefined;
    if (denied) return done('invalid_target', denied, ruleInfo, false, { kind: 'none' }, rule);
    const named = resolveTarget(rule, alert.labels, policy);
    if (named.ok) target = named.target;
    targetKey = named.ok
      ? `script:${rule.script.path}:${workloadKey(named.target)}`
      : scriptTargetKey(rule, alert.labels);
  } else {
    const resolved = resolveTarget(rule, alert.labels, policy);
    if (!resolved.ok)
      return done('invalid_target', resolved.reason, ruleInfo, false, { kind: 'none' }, rule);
    target = resolved.target;
    targetKey = workloadKey(target);
  }
  const withTarget: Partial<Decision> = { ...ruleInfo, targetKey, ...(target ? { target } : {}) };
  const d = (
    decision: DecisionKind,
    reason: string,
    final: boolean,
    effect: Effect = { kind: 'none' },
    extra: Partial<Decision> = {},
  ) => done(decision, reason, { ...withTarget, ...extra }, final, effect, rule);

  const active = view.activeJob(targetKey);
  if (active) {
    return d(
      'coalesced',
      `attached to job ${active.id} (${active.state}) for the same target`,
      true,
      { kind: 'coalesce', jobId: active.id },
      { jobId: active.id },
    );
  }
  if (!rule.autoRollback)
    return d('notify_only', `rule ${rule.name} has autoRollback: false`, true);
  if (RANK[rule.confidence] < RANK[policy.approvalConfidence]) {
    return d(
      'notify_only',
      `confidence ${rule.confidence} is below the approval threshold (${policy.approvalConfidence})`,
      true,
    );
  }
  if (view.paused)
    return d(
      'paused',
      'automatic rollbacks are paused by an operator (POST /resume to resume)',
      false,
    );

  const last = view.lastActionAt(targetKey);
  if (last !== undefined && now - last < policy.cooldownSeconds * 1000) {
    const left = Math.ceil((policy.cooldownSeconds * 1000 - (now - last)) / 1000);
    return d(
      'cooldown',
      `target was rolled back ${Math.floor((now - last) / 1000)}s ago; cooldown ends in ${left}s`,
      true,
    );
  }
  if (view.circuitOpen)
    return d(
      'circuit_open',
      'the circuit breaker is open: too many rollbacks; an operator must resume',
      false,
    );

  if (RANK[rule.confidence] < RANK[policy.autoRollbackConfidence]) {
    return d(
      'awaiting_approval',
      `confidence ${rule.confidence} needs an operator's approval (auto-rollback threshold: ${policy.autoRollbackConfidence})`,
      true,
      { kind: 'new_job', held: true },
    );
  }
  const { maxRollbacks, windowSeconds } = policy.circuitBreaker;
  const since = now - windowSeconds * 1000;
  const recent = view.rollbacksSince(since);
  if (recent >= maxRollbacks) {
    const acted = view.actedSince?.(since) ?? recent;
    if (acted < maxRollbacks) {
      // Jobs still pending may end without acting (skipped, failed before acting): hold this
      // one back without latching the circuit; Alertmanager's re-send is decided again.
      return d(
        'circuit_open',
        `this would be rollback ${recent + 1} in the last ${windowSeconds}s (limit ${maxRollbacks}; ${recent - acted} of them not acted yet): decided again when the alert is re-sent`,
        false,
      );
    }
    const reason = `circuit breaker opened: ${acted} rollbacks in the last ${windowSeconds}s (limit ${maxRollbacks})`;
    return d('circuit_open', reason, false, { kind: 'open_circuit', reason });
  }
  return d('queued', `confidence ${rule.confidence} meets the auto-rollback threshold`, true, {
    kind: 'new_job',
    held: false,
  });
}

/**
 * Why a rule for this alert name did not take it (" (rule X needs severity=\"critical\")"), so an
 * operator adapting the rules sees which matcher the alert missed; "" when no rule has the name.
 */
function unmatched(rules: readonly CompiledRule[], labels: Record<string, string>): string {
  const rule = rules.find((r) => r.alert === labels['alertname']);
  const missed = rule?.matchers.find((m) => !m.test(labels));
  return rule && missed
    ? ` (rule ${rule.name} needs ${missed.name}${missed.op}${JSON.stringify(missed.value)})`
    : '';
}
