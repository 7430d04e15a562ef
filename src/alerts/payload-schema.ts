// Alertmanager webhook payload, version 4: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
// Lenient on extra fields (Alertmanager adds them over time), strict on `version`.
import { z } from 'zod';
import type { GrafanaPayload } from './grafana-payload-schema.js';

// `__proto__` as a key would set the parsed object's prototype: refuse it outright.
const labelMap = z.record(
  z.string().refine((k) => k !== '__proto__', '__proto__ is not a valid label name'),
  z.string(),
);

export const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap.refine((l) => typeof l['alertname'] === 'string' && l['alertname'] !== '', {
    message: 'labels.alertname is required',
  }),
  annotations: labelMap.default({}),
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
  commonAnnotations: labelMap.default({}),
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
