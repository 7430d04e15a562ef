// One log line per alert decision (contract: charts/rollback-controller/docs/contract.md,
// "Logs"): the alert, the target, the rule, the decision and its reason, so an operator can tell
// from the logs alone why a rollback did or did not happen. Acting decisions are info; refusals an
// operator should look at (cooldown, pause, circuit, an alert no rule maps, a target that is not
// allowed) are warn.
import type { Logger } from 'pino';
import type { Decision, DecisionKind } from '../model/decision.js';

const WARN_DECISIONS: ReadonlySet<DecisionKind> = new Set([
  'cooldown',
  'paused',
  'circuit_open',
  'unmapped',
  'invalid_target',
]);

export function decisionLevel(kind: DecisionKind): 'info' | 'warn' {
  return WARN_DECISIONS.has(kind) ? 'warn' : 'info';
}

/** "Deployment shop/api", a script lane ("script:undo.sh"), or undefined (no target). */
export function targetText(d: Pick<Decision, 'target' | 'targetKey'>): string | undefined {
  if (d.target) return `${d.target.kind} ${d.target.namespace}/${d.target.name}`;
  return d.targetKey;
}

/** What a decision line (and a `/decisions` entry) says about one alert. */
export interface DecisionFields {
  alertname: string;
  fingerprint: string;
  status: Decision['status'];
  target: string | null;
  rule: string | null;
  trigger?: string;
  decision: DecisionKind;
  reason: string;
  jobId?: string;
}

export function decisionLogFields(d: Decision): DecisionFields {
  return {
    alertname: d.alertname,
    fingerprint: d.fingerprint,
    status: d.status,
    target: targetText(d) ?? null,
    rule: d.rule ?? null,
    ...(d.trigger ? { trigger: d.trigger } : {}),
    decision: d.decision,
    reason: d.reason,
    ...(d.jobId ? { jobId: d.jobId } : {}),
  };
}

export function logDecision(logger: Logger, d: Decision): void {
  logger[decisionLevel(d.decision)](decisionLogFields(d), `alert ${d.decision}: ${d.reason}`);
}
