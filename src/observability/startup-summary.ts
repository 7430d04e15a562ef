// The one start-up line (contract.md "Process"): what is on, and why something is off, in the fields an
// operator greps for first. Pure: app.ts gathers the facts.
import type { AuthSummary } from '../http/auth-summary.js';

export interface StartupFacts {
  executors: Record<string, { available: boolean; reason?: string }>;
  rules: readonly { name: string }[];
  slackEnabled: boolean;
  ha: { lease: string; identity: string } | undefined;
  dataDir: string;
  /** The cluster this controller serves (cluster identity); undefined when not configured. */
  clusterName: string | undefined;
  /** The API server and kubeconfig context (or `in-cluster`); undefined without a config. */
  kube: { server: string; context: string } | undefined;
  /** The permission check's one-line answer ("ok (9 checked)", "missing: patch ..."). */
  permissions: string;
  auth: AuthSummary;
  logFormat: string;
}

export function startupSummary(f: StartupFacts): Record<string, unknown> {
  return {
    executors: Object.fromEntries(
      Object.entries(f.executors).map(([name, a]) => [
        name,
        a.available ? 'available' : `unavailable: ${a.reason ?? 'unknown'}`,
      ]),
    ),
    rules: `${f.rules.length} (${f.rules.map((r) => r.name).join(', ')})`,
    slack: f.slackEnabled ? 'enabled' : 'disabled: SLACK_WEBHOOK_URL is not set',
    ha: f.ha
      ? `leader election on Lease ${f.ha.lease} as ${f.ha.identity}`
      : 'off: single replica (ROLLBACK_LEADER_ELECTION is not true)',
    dataDir: f.dataDir,
    cluster: f.clusterName ?? 'not set: alerts for any cluster are accepted',
    apiServer: f.kube?.server ?? 'none: no Kubernetes config',
    kubeContext: f.kube?.context ?? 'none',
    permissions: f.permissions,
    webhookSecret: f.auth.webhookSecret,
    operatorSecret: f.auth.operatorSecret,
    logFormat: f.logFormat,
  };
}
