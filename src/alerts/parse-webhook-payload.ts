// One entry for both senders /trigger accepts: `version` says which schema applies, and every
// refusal says what was expected, so a Grafana contact point with a custom payload template (or
// any other sender) learns how to fix it from the 400 alone.
import { z } from 'zod';
import { grafanaPayloadSchema } from './grafana-payload-schema.js';
import { BOUND_HINT, payloadSchema, type AlertPayload } from './payload-schema.js';

export type WebhookParse =
  { ok: true; payload: AlertPayload } | { ok: false; error: string; issues: z.core.$ZodIssue[] };

const EXPECTED =
  'send the Alertmanager webhook payload (version "4") or the Grafana webhook contact point\'s default payload (version "1")';

const versionSchema = z.object({ version: z.enum(['4', '1']) }, 'expected a JSON object');

export function parseWebhookPayload(body: unknown): WebhookParse {
  const version = versionSchema.safeParse(body);
  if (!version.success) {
    const given =
      !body || typeof body !== 'object' || Array.isArray(body)
        ? 'invalid webhook payload: expected a JSON object'
        : 'version' in body
          ? `unsupported payload version ${clip(JSON.stringify(body.version))}`
          : 'not a webhook payload (no version field)';
    return { ok: false, error: `${given}: ${EXPECTED}`, issues: version.error.issues };
  }
  if (version.data.version === '4') {
    const parsed = payloadSchema.safeParse(body);
    return parsed.success
      ? { ok: true, payload: parsed.data }
      : {
          ok: false,
          error: withBound(
            'invalid Alertmanager webhook payload (version "4")',
            parsed.error.issues,
          ),
          issues: parsed.error.issues,
        };
  }
  const parsed = grafanaPayloadSchema.safeParse(body);
  return parsed.success
    ? { ok: true, payload: parsed.data }
    : {
        ok: false,
        error: withBound(
          'invalid Grafana webhook payload (version "1"): expected the contact point\'s default body ' +
            '(orgId, status, alerts[] each with status, labels.alertname, startsAt and fingerprint); ' +
            'if the contact point has a custom payload template, remove it',
          parsed.error.issues,
        ),
        issues: parsed.error.issues,
      };
}

function withBound(error: string, issues: readonly z.core.$ZodIssue[]): string {
  const bound = boundIssue(issues);
  return bound ? `${error}: ${bound}` : error;
}

function clip(text: string | undefined): string {
  const t = text ?? 'undefined';
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

/** The first issue that names a payload bound, as `path: message`, for the 400's own message. */
export function boundIssue(issues: readonly z.core.$ZodIssue[]): string | undefined {
  const hit = issues.find((i) => i.message.includes(BOUND_HINT));
  return hit ? `${hit.path.join('.') || 'payload'}: ${hit.message}` : undefined;
}
