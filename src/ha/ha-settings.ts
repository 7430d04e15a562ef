// High-availability settings from the environment. Off by default: a single replica needs no
// Kubernetes access to accept alerts. In a pod, POD_NAME, POD_NAMESPACE and POD_IP come from the
// downward API.
import { hostname } from 'node:os';

export interface HaSettings {
  identity: string;
  /** Where followers reach this replica's API when it leads (published on the Lease). */
  advertiseUrl: string;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export type HaSettingsResult =
  | { enabled: false }
  | { enabled: true; settings: HaSettings }
  | { enabled: true; problems: string[] };

export function readHaSettings(
  env: Record<string, string | undefined>,
  pid: number = process.pid,
): HaSettingsResult {
  const flag = (env['ROLLBACK_LEADER_ELECTION'] ?? '').trim().toLowerCase();
  if (!['true', '1', 'yes'].includes(flag)) return { enabled: false };
  const problems: string[] = [];
  const seconds = (name: string, fallback: number, integer = false): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback * 1000;
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
      problems.push(`${name}: must be a positive ${integer ? 'whole ' : ''}number of seconds`);
      return fallback * 1000;
    }
    return v * 1000;
  };
  // A Lease stores its duration in whole seconds.
  const leaseDurationMs = seconds('ROLLBACK_LEASE_DURATION_SECONDS', 15, true);
  const renewDeadlineMs = seconds('ROLLBACK_LEASE_RENEW_DEADLINE_SECONDS', 10);
  const retryPeriodMs = seconds('ROLLBACK_LEASE_RETRY_PERIOD_SECONDS', 2);
  if (!problems.length && renewDeadlineMs >= leaseDurationMs)
    problems.push(
      'ROLLBACK_LEASE_RENEW_DEADLINE_SECONDS: must be shorter than ROLLBACK_LEASE_DURATION_SECONDS (the old leader must stand down before the lease expires for the others)',
    );
  if (!problems.length && retryPeriodMs >= renewDeadlineMs)
    problems.push(
      'ROLLBACK_LEASE_RETRY_PERIOD_SECONDS: must be shorter than ROLLBACK_LEASE_RENEW_DEADLINE_SECONDS',
    );
  const advertise = advertiseUrl(env, problems);
  if (problems.length) return { enabled: true, problems };
  return {
    enabled: true,
    settings: {
      identity: env['POD_NAME'] || `${hostname()}-${pid}`,
      advertiseUrl: advertise,
      leaseNamespace: env['POD_NAMESPACE'] || 'default',
      leaseName: env['ROLLBACK_LEASE_NAME'] || 'rollback-controller',
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
    },
  };
}

/**
 * ROLLBACK_ADVERTISE_URL, else http://POD_IP:PORT (the pod's own address: a Service name would
 * reach any replica, a follower included), else http://<hostname>:PORT.
 */
function advertiseUrl(env: Record<string, string | undefined>, problems: string[]): string {
  const port = env['PORT'] || '8080';
  const given = env['ROLLBACK_ADVERTISE_URL']?.trim();
  if (given) {
    let url: URL | undefined;
    try {
      url = new URL(given);
    } catch {
      // reported below
    }
    if (!url || url.protocol !== 'http:' || url.pathname !== '/' || url.search || url.username) {
      problems.push(
        'ROLLBACK_ADVERTISE_URL: must be an http:// URL with only a host and port, e.g. http://10.0.0.7:8080',
      );
      return '';
    }
    return url.origin;
  }
  const ip = env['POD_IP']?.trim();
  if (ip) return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  return `http://${hostname()}:${port}`;
}
