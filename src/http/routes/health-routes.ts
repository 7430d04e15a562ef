// Unauthenticated probes and metrics (no prefix).
import type { RequestHandler } from 'express';
import type { RollbackController } from '../../controller.js';
import type { PermissionReport } from '../../kube/permission-check.js';
import { permissionText } from '../../kube/required-permissions.js';
import type { Metrics } from '../../observability/metrics.js';
import type { AuthSummary } from '../auth-summary.js';
import type { ApiRoute } from '../route-table.js';

export function healthRoutes(
  ctl: RollbackController,
  metrics: Metrics,
  auth?: () => AuthSummary,
): ApiRoute[] {
  const probe = (path: string, handler: RequestHandler): ApiRoute => ({
    method: 'GET',
    path,
    name: path.slice(1),
    scope: 'root',
    credential: 'none',
    handlers: [handler],
  });
  const healthz = probe('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready = able to accept and durably record alerts, or (a follower under leader election) to
  // forward them to the leader. Leadership is reported, not a condition: a follower that is never
  // Ready stalls the controller's own rollouts and a PodDisruptionBudget. A missing cluster is
  // reported, not fatal: dropping out of the Service would make Alertmanager lose notifications.
  // Unauthenticated, so terse: fixed words only, no replica names, no error text (those are on the
  // authenticated GET /status).
  const readyz = probe('/readyz', async (_req, res) => {
    const executors = await ctl.executorStatus();
    const journalOk = ctl.journal.lastError === undefined;
    const ready = ctl.isReady && journalOk;
    const leader = ctl.leaderCheck;
    const permissions = ctl.permissions?.report;
    const missing = permissions?.missing ?? [];
    res.status(ready ? 200 : 503).json({
      ready,
      // Which cluster this pod serves, by the names its operators chose (the API server URL is on
      // the authenticated GET /status).
      cluster: ctl.clusterName ?? null,
      kubeContext: ctl.kubeTarget?.context ?? null,
      checks: {
        ...(leader !== undefined ? { leader: leader === 'leader' ? 'leader' : 'follower' } : {}),
        journal: journalOk ? 'ok' : 'failing',
        // Reported, not a condition: the pod must stay up for an operator to see why.
        ...(auth ? { webhookSecret: auth().webhookSecret } : {}),
        ...Object.fromEntries(
          Object.entries(executors).map(([k, v]) => [k, v.available ? 'available' : 'unavailable']),
        ),
        // Reported, not a condition: a missing permission fails the jobs that need it, not intake.
        ...(permissions ? { permissions: permissionWord(permissions) } : {}),
      },
      ...(missing.length
        ? {
            warnings: missing.map(
              (m) =>
                `missing permission: ${permissionText({ ...m, label: m.resource })} (${m.feature})`,
            ),
          }
        : {}),
    });
  });
  const metricsRoute = probe('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return [healthz, readyz, metricsRoute];
}

function permissionWord(r: PermissionReport): string {
  if (r.error || r.checkedAt === null) return 'unknown';
  return r.missing.length ? `missing ${r.missing.length}` : 'ok';
}
