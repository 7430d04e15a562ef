// The express app: request ids and logging, metrics per request, the route table (each route with
// its own credential; on a follower, API routes are authenticated here and then forwarded to the
// leader), then one error handler.
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { RollbackController } from '../controller.js';
import type { ReplicaLeadership } from '../ha/replica-leadership.js';
import type { Metrics } from '../observability/metrics.js';
import { checkForwardedBody, type Auth } from './auth.js';
import type { AuthSummary } from './auth-summary.js';
import { errorHandler } from './error-handler.js';
import { forwardToLeader } from './forward-to-leader.js';
import { operatorRequestGuard } from './operator-request-guard.js';
import { routeTable } from './route-table.js';
import { healthRoutes } from './routes/health-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { testRoutes } from './routes/test-route.js';
import { triggerRoutes } from './routes/trigger-route.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createHttpApp(o: {
  controller: RollbackController;
  auth: Auth;
  /** Which secrets are configured, for /readyz and /status. */
  authSummary?: () => AuthSummary;
  metrics: Metrics;
  logger: Logger;
  bodyLimitBytes: number;
  /** With leader election: API requests go to the leader unless this replica leads. */
  leadership?: ReplicaLeadership;
  forwardTimeoutMs?: number;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    const log = o.logger.child({ requestId: id });
    req.log = log;
    res.locals['log'] = log;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (res.locals['route'] as string | undefined) ?? 'unmatched';
      o.metrics.webhookRequests.inc({ route, code: String(res.statusCode) });
      if (route === 'metrics' || route === 'healthz' || route === 'readyz') return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info(
        { method: req.method, route, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    });
    next();
  });

  const json = express.json({
    limit: o.bodyLimitBytes,
    type: ['application/json'],
    strict: true,
    // JSON.parse makes `__proto__` an own key; copying such objects later can swap prototypes.
    reviver: (key: string, value: unknown) => {
      if (key === '__proto__') throw new Error('keys named __proto__ are not accepted');
      return value;
    },
    verify: checkForwardedBody,
  });
  const leadership = o.leadership;
  const forward =
    leadership && o.auth.key
      ? forwardToLeader({
          route: () => leadership.route(),
          identity: leadership.identity,
          key: o.auth.key,
          bodyLimitBytes: o.bodyLimitBytes,
          ...(o.forwardTimeoutMs !== undefined ? { timeoutMs: o.forwardTimeoutMs } : {}),
        })
      : undefined;
  const table = [
    ...healthRoutes(o.controller, o.metrics, o.authSummary),
    ...triggerRoutes(o.controller, json),
    ...testRoutes(o.controller, json, o.bodyLimitBytes),
    ...jobRoutes(o.controller, json, o.authSummary),
  ];
  // Operator actions are checked before forwarding, so a follower forwards only what the leader
  // accepts, and the leader checks them again (the signed role).
  app.use(
    routeTable(table, {
      authenticate: (credential) => o.auth.authenticate(credential),
      operatorAction: operatorRequestGuard(),
      ...(forward ? { forward } : {}),
    }),
  );
  app.use(errorHandler());
  return app;
}
