// Grafana-managed alerts: the webhook contact point's default body, version "1"
// (https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/).
// It is Alertmanager's payload plus Grafana's own fields, so its alerts are decided exactly like
// Alertmanager's. Grafana marks title, state, message, dashboardURL and panelURL as soon to be
// deprecated: they are checked when present and not required.
import { z } from 'zod';
import { alertSchema, atMostEntries, groupFields, PAYLOAD_BOUNDS } from './payload-schema.js';

export const grafanaAlertSchema = alertSchema.extend({
  /** The query and expression results that made the rule fire, by refId (`B: 44.2`). */
  values: atMostEntries('values', PAYLOAD_BOUNDS.labels)
    .pipe(z.record(z.string().max(PAYLOAD_BOUNDS.nameChars), z.number().nullable()))
    .nullable()
    .optional(),
  silenceURL: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  imageURL: z.string().optional(),
});

export const grafanaPayloadSchema = z.looseObject({
  ...groupFields,
  version: z.literal('1'),
  orgId: z.number().int(),
  /** `alerting` while any alert fires, else `ok`. */
  state: z.string().optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  alerts: z.array(grafanaAlertSchema).max(1000),
});

export type GrafanaPayload = z.infer<typeof grafanaPayloadSchema>;
