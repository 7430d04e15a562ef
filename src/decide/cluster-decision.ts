// Cluster identity, checked before any rule: behind a central Alertmanager the same
// `prod/checkout` exists in every cluster, and only the alert's cluster label says which one is
// meant. Pure, like the rest of decide/.
import type { Alert } from '../alerts/payload-schema.js';
import type { ClusterConfig } from '../config/schema.js';
import type { AlertDecision } from './decide-alert.js';

/** Why this controller must not act on an alert with these labels, or undefined when it may. */
export function clusterMismatch(
  labels: Record<string, string>,
  cluster: ClusterConfig,
): string | undefined {
  const ours = cluster.name;
  if (ours === undefined) return undefined;
  const theirs = labels[cluster.label] ?? '';
  if (theirs === '') {
    if (!cluster.requireLabel) return undefined;
    return (
      `the alert has no ${cluster.label} label; this controller serves ${ours} and requires it ` +
      `(cluster.requireLabel): give the alert ${cluster.label}="${ours}", for example with ` +
      `Prometheus external_labels or a label on the alert rule`
    );
  }
  if (theirs === ours) return undefined;
  return `alert is for cluster ${shown(theirs)}; this controller serves ${ours}`;
}

/** The `invalid_target` decision for an alert meant for another cluster, else undefined. */
export function clusterDecision(alert: Alert, cluster: ClusterConfig): AlertDecision | undefined {
  const reason = clusterMismatch(alert.labels, cluster);
  if (reason === undefined) return undefined;
  return {
    decision: {
      alertname: alert.labels['alertname'] ?? '',
      fingerprint: alert.fingerprint,
      status: alert.status,
      decision: 'invalid_target',
      reason,
    },
    // Not final, like every invalid_target: the instance was not handled here.
    final: false,
    effect: { kind: 'none' },
  };
}

/** A label value as it came, unless it is long or unusual: then quoted and clipped. */
function shown(value: string): string {
  if (/^[\w.:/@-]{1,80}$/.test(value)) return value;
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
