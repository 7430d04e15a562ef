// Alertmanager v4 payloads for tests, shaped like the real thing (firing alerts carry the zero
// endsAt, receiver names arrive regex-escaped).
export interface AlertInput {
  alertname: string;
  labels?: Record<string, string>;
  status?: 'firing' | 'resolved';
  fingerprint?: string;
  startsAt?: string;
  endsAt?: string;
}

let counter = 0;

export function alert(a: AlertInput): Record<string, unknown> {
  const labels = { alertname: a.alertname, severity: 'critical', ...(a.labels ?? {}) };
  const status = a.status ?? 'firing';
  return {
    status,
    labels,
    annotations: { summary: `${a.alertname} is firing` },
    startsAt: a.startsAt ?? '2026-11-22T10:00:00.000Z',
    endsAt: a.endsAt ?? (status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-22T10:20:00.000Z'),
    generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up',
    fingerprint: a.fingerprint ?? `fp${(++counter).toString(16).padStart(14, '0')}`,
  };
}

export function payload(
  alerts: Array<Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const firing = alerts.some((a) => a['status'] === 'firing');
  return {
    receiver: 'rollback\\-controller',
    status: firing ? 'firing' : 'resolved',
    alerts,
    groupLabels: {
      alertname: String((alerts[0]?.['labels'] as Record<string, string>)?.['alertname'] ?? ''),
    },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    version: '4',
    groupKey: '{}/{severity="critical"}:{alertname="X"}',
    truncatedAlerts: 0,
    ...extra,
  };
}

/** One firing alert for a Deployment in `shop`. */
export function firing(
  alertname: string,
  name: string,
  extra: Partial<AlertInput> = {},
): Record<string, unknown> {
  return alert({
    alertname,
    ...extra,
    labels: { namespace: 'shop', deployment: name, ...(extra.labels ?? {}) },
  });
}
