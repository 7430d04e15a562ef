// Alertmanager webhook payload, version 4: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
// Lenient on extra fields (Alertmanager adds them over time), strict on `version`.
import { z } from 'zod';
import type { GrafanaPayload } from './grafana-payload-schema.js';
import { MAX_REGEX_INPUT } from './matchers.js';

/**
 * What one alert may carry (README, "Payload bounds"): far above real alerts, low enough that no
 * payload under the body limit can keep the event loop busy. A payload over one is a 400 naming
 * it. Label values stay within what a regex matcher evaluates (MAX_REGEX_INPUT).
 */
export const PAYLOAD_BOUNDS = {
  labels: 128,
  annotations: 128,
  nameChars: 256,
  labelValueChars: MAX_REGEX_INPUT,
  annotationValueChars: 65_536,
} as const;

/** Marks the issues that name a bound, so the 400's message can say which one. */
export const BOUND_HINT = 'see "Payload bounds" in the README';

/** Any value, but an object with more than `max` keys is refused before its entries are read. */
export function atMostEntries(what: string, max: number) {
  return z.unknown().superRefine((v, ctx) => {
    if (!v || typeof v !== 'object') return;
    const n = Object.keys(v).length;
    if (n > max)
      ctx.addIssue({
        code: 'custom',
        message: `at most ${max} ${what} per map (got ${n}); ${BOUND_HINT}`,
        continue: false,
      });
  });
}

/**
 * A label or annotation map: the count is checked before any entry is (a 40,000-label alert is
 * refused at the cost of counting its keys), then each name and value. `__proto__` as a key
 * would set the parsed object's prototype: refused outright.
 */
export function boundedMap(noun: 'label' | 'annotation', maxEntries: number, maxValue: number) {
  return atMostEntries(`${noun}s`, maxEntries).pipe(
    z.record(
      z
        .string()
        .max(
          PAYLOAD_BOUNDS.nameChars,
          `${noun} names are at most ${PAYLOAD_BOUNDS.nameChars} characters; ${BOUND_HINT}`,
        )
        .refine((k) => k !== '__proto__', `__proto__ is not a valid ${noun} name`),
      z.string().max(maxValue, `${noun} values are at most ${maxValue} characters; ${BOUND_HINT}`),
    ),
  );
}

const labelMap = boundedMap('label', PAYLOAD_BOUNDS.labels, PAYLOAD_BOUNDS.labelValueChars);
const annotationMap = boundedMap(
  'annotation',
  PAYLOAD_BOUNDS.annotations,
  PAYLOAD_BOUNDS.annotationValueChars,
);

export const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap.refine((l) => typeof l['alertname'] === 'string' && l['alertname'] !== '', {
    message: 'labels.alertname is required',
  }),
  annotations: annotationMap.default({}),
  startsAt: z.string().min(1),
  endsAt: z.string().default('0001-01-01T00:00:00Z'),
  generatorURL: z.string().default(''),
  fingerprint: z.string().min(1).max(128),
});

/** The group fields Alertmanager sends, which Grafana's webhook sends too. */
export const groupFields = {
  groupKey: z.string().default(''),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().default(''),
  groupLabels: labelMap.default({}),
  commonLabels: labelMap.default({}),
  commonAnnotations: annotationMap.default({}),
  externalURL: z.string().default(''),
};

export const payloadSchema = z.looseObject({
  ...groupFields,
  version: z.literal('4'),
  alerts: z.array(alertSchema).max(1000),
});

export type Alert = z.infer<typeof alertSchema>;
/** What /trigger and /test decide on: Alertmanager's payload or Grafana's superset of it. */
export type AlertPayload = z.infer<typeof payloadSchema> | GrafanaPayload;
