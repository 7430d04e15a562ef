// `/test` accepts the short form, a form body, or a full Alertmanager or Grafana payload; all
// become one payload so the dry run goes through exactly the decision path a real notification
// takes.
import { z } from 'zod';
import { boundIssue, parseWebhookPayload } from './parse-webhook-payload.js';
import { boundedMap, PAYLOAD_BOUNDS, type AlertPayload } from './payload-schema.js';

const shortForm = z.strictObject({
  alert_name: z.string().min(1).max(256),
  labels: boundedMap('label', PAYLOAD_BOUNDS.labels, PAYLOAD_BOUNDS.labelValueChars).default({}),
  status: z.enum(['firing', 'resolved']).default('firing'),
});

export type DryRunParse =
  { ok: true; payload: AlertPayload } | { ok: false; issues: z.core.$ZodIssue[]; error?: string };

/** Form bodies: `alert_name=X&label.service=Y` → `{ alert_name: X, labels: { service: Y } }`. */
export function formToShortForm(form: Record<string, unknown>): Record<string, unknown> {
  const labels: Record<string, unknown> = {};
  const out: Record<string, unknown> = { labels };
  for (const [key, value] of Object.entries(form)) {
    if (key.startsWith('label.'))
      Object.defineProperty(labels, key.slice(6), { value, enumerable: true });
    else Object.defineProperty(out, key, { value, enumerable: true });
  }
  return out;
}

export function parseDryRunBody(body: unknown, now: number): DryRunParse {
  if (body && typeof body === 'object' && 'alerts' in body) {
    const parsed = parseWebhookPayload(body);
    return parsed.ok
      ? { ok: true, payload: parsed.payload }
      : { ok: false, issues: parsed.issues, error: parsed.error };
  }
  const parsed = shortForm.safeParse(body);
  if (!parsed.success) {
    const bound = boundIssue(parsed.error.issues);
    return {
      ok: false,
      issues: parsed.error.issues,
      ...(bound ? { error: `invalid dry-run request: ${bound}` } : {}),
    };
  }
  const startsAt = new Date(now).toISOString();
  const labels = { ...parsed.data.labels, alertname: parsed.data.alert_name };
  return {
    ok: true,
    payload: {
      version: '4',
      groupKey: 'dry-run',
      truncatedAlerts: 0,
      status: parsed.data.status,
      receiver: 'dry-run',
      groupLabels: {},
      commonLabels: labels,
      commonAnnotations: {},
      externalURL: '',
      alerts: [
        {
          status: parsed.data.status,
          labels,
          annotations: {},
          startsAt,
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint: 'dry-run',
        },
      ],
    },
  };
}
