// Builds a Job from a decision. Pure: the id and the time are inputs.
import type { Alert } from '../alerts/payload-schema.js';
import type { CompiledRule } from '../config/compile-rules.js';
import type { Decision } from '../model/decision.js';
import type { AlertRef, Job } from '../model/job.js';

export function alertRef(alert: Alert, externalURL: string, receivedAt: number): AlertRef {
  return {
    alertname: alert.labels['alertname'] ?? '',
    fingerprint: alert.fingerprint,
    startsAt: alert.startsAt,
    labels: alert.labels,
    annotations: alert.annotations,
    generatorURL: alert.generatorURL,
    externalURL,
    receivedAt,
  };
}

export function newJob(options: {
  id: string;
  now: number;
  rule: CompiledRule;
  decision: Decision;
  alert: AlertRef;
  held: boolean;
  approvalTtlMs: number;
}): Job {
  const { id, now, rule, decision, alert, held } = options;
  const at = new Date(now).toISOString();
  const job: Job = {
    id,
    targetKey: decision.targetKey ?? '',
    executor: rule.script ? 'script' : 'kubernetes',
    rule: rule.name,
    trigger: rule.trigger,
    confidence: rule.confidence,
    alert,
    coalesced: [],
    state: held ? 'awaiting_approval' : 'queued',
    createdAt: at,
    timeline: [{ at, event: held ? 'awaiting_approval' : 'queued', message: decision.reason }],
  };
  if (decision.target) job.target = decision.target;
  if (rule.script) job.script = rule.script;
  if (held) job.approval = { expiresAt: new Date(now + options.approvalTtlMs).toISOString() };
  return job;
}
