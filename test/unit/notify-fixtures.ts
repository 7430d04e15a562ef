// A realistic job at each point of its life, for the Slack message tests.
import type { Job } from '../../src/model/job.js';
import type { SlackBlock } from '../../src/notify/block-kit.js';

export const T0 = Date.parse('2025-03-04T10:00:00.000Z');
export const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

export function sampleJob(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job-7f3a',
    targetKey: 'Deployment/payments/api',
    executor: 'kubernetes',
    origin: 'alert',
    target: { kind: 'Deployment', namespace: 'payments', name: 'api' },
    rule: 'CriticalErrorRate',
    trigger: 'error_rate_threshold',
    confidence: 'high',
    alert: {
      alertname: 'CriticalErrorRate',
      fingerprint: 'a1b2c3d4e5f60718',
      startsAt: iso(-60_000),
      labels: {
        alertname: 'CriticalErrorRate',
        namespace: 'payments',
        deployment: 'api',
        severity: 'critical',
      },
      annotations: { summary: 'Error rate above 5% for 5m' },
      generatorURL: 'http://prometheus.example/graph?g0.expr=rate(errors[5m])&g0.tab=1',
      externalURL: 'http://alertmanager.example',
      receivedAt: T0,
    },
    coalesced: [],
    state: 'running',
    createdAt: iso(0),
    startedAt: iso(1_000),
    fromRevision: 7,
    toRevision: 6,
    images: [
      { container: 'api', from: 'registry.example/api:v2.1.0', to: 'registry.example/api:v2.0.3' },
    ],
    timeline: [
      { at: iso(0), event: 'queued', message: 'confidence high meets the auto-rollback threshold' },
    ],
    ...overrides,
  };
}

/** Every string a message carries (text and all block texts), for "contains" assertions. */
export function allText(message: { text: string; blocks: unknown[] }): string {
  return `${message.text}\n${JSON.stringify(message.blocks)}`;
}

/** Every text string of a message: the fallback and each block's text objects. */
export function mrkdwnStrings(message: { text: string; blocks: SlackBlock[] }): string[] {
  const out = [message.text];
  for (const b of message.blocks) {
    if ('text' in b) out.push(b.text.text);
    if ('fields' in b) out.push(...b.fields.map((f) => f.text));
    if (b.type === 'context') out.push(...b.elements.map((e) => e.text));
    if (b.type === 'actions') out.push(...b.elements.map((e) => e.text.text));
  }
  return out;
}
