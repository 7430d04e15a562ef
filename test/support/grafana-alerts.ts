// Grafana-managed alert notifications for tests, built to the fields Grafana documents for its
// webhook contact point (version "1"): Alertmanager's group fields plus orgId, state, title,
// message, and per alert values, silenceURL, dashboardURL and panelURL. Grafana writes times with
// microseconds and the server's offset, and names its own folder in a label.
import type { AlertInput } from './alerts.js';

export interface GrafanaAlertInput extends AlertInput {
  /** Query and expression results by refId. */
  values?: Record<string, number> | null;
}
const GRAFANA = 'https://grafana.example.com/';
let counter = 0;

export function grafanaAlert(a: GrafanaAlertInput): Record<string, unknown> {
  const labels = { alertname: a.alertname, grafana_folder: 'Checkout', ...(a.labels ?? {}) };
  const status = a.status ?? 'firing';
  const ruleUid = `r${(counter + 1).toString(36)}`;
  const matchers = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    status,
    labels,
    annotations: { summary: `${a.alertname} over threshold`, runbook_url: `${GRAFANA}runbooks/1` },
    startsAt: a.startsAt ?? '2026-11-22T11:00:03.157076+01:00',
    endsAt:
      a.endsAt ??
      (status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-22T11:20:03.157076+01:00'),
    generatorURL: `${GRAFANA}alerting/grafana/${ruleUid}/view?orgId=1`,
    fingerprint: a.fingerprint ?? (++counter).toString(16).padStart(16, '0'),
    silenceURL: `${GRAFANA}alerting/silence/new?alertmanager=grafana&matchers=${encodeURIComponent(matchers)}&orgId=1`,
    dashboardURL: '',
    panelURL: '',
    values: a.values === undefined ? { A: 0.27, B: 0.27, C: 1 } : a.values,
  };
}

export function grafanaPayload(
  alerts: Array<Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const firing = alerts.filter((a) => a['status'] === 'firing').length;
  const resolved = alerts.length - firing;
  const title = firing ? `[FIRING:${firing}] checkout` : `[RESOLVED:${resolved}] checkout`;
  return {
    receiver: 'rollback-controller',
    status: firing ? 'firing' : 'resolved',
    orgId: 1,
    alerts,
    groupLabels: { grafana_folder: 'Checkout' },
    commonLabels: { grafana_folder: 'Checkout' },
    commonAnnotations: {},
    externalURL: GRAFANA,
    version: '1',
    groupKey: '{}/{}:{grafana_folder="Checkout"}',
    truncatedAlerts: 0,
    title,
    state: firing ? 'alerting' : 'ok',
    message: `**${firing ? 'Firing' : 'Resolved'}**\n\nValue: A=0.27\nLabels:\n - alertname = ...\n`,
    ...extra,
  };
}

/** A firing Grafana alert for a Deployment in `shop`. */
export function grafanaFiring(
  alertname: string,
  name: string,
  extra: Partial<GrafanaAlertInput> = {},
) {
  const labels = { namespace: 'shop', deployment: name, ...extra.labels };
  return grafanaAlert({ ...extra, alertname, labels });
}
