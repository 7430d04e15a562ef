// Builds a Job from a decision. Pure: the id and the time are inputs.
import type { Alert } from '../alerts/payload-schema.js';
import type { CompiledRule } from '../config/compile-rules.js';
import type { Decision } from '../model/decision.js';
import type { AlertRef, Job } from '../model/job.js';
import { open, type JobFields } from './job-transitions.js';

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
  const fields: JobFields = {
    id,
    targetKey: decision.targetKey ?? '',
    executor: rule.script ? 'script' : 'kubernetes',
    rule: rule.name,
    trigger: rule.trigger,
    confidence: rule.confidence,
    alert,
  };
  if (decision.target) fields.target = decision.target;
  if (rule.script) fields.script = rule.script;
  return open(fields, {
    at: now,
    reason: decision.reason,
    ...(held ? { approvalExpiresAt: now + options.approvalTtlMs } : {}),
  });
}
