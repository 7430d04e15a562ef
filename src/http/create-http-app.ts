// The express app: request ids and logging, metrics per request, the routes under both prefixes
// (on a follower: authenticated, then forwarded to the leader), then one error handler.
import { randomUUID } from 'node:crypto';
import express, { Router, type Express } from 'express';
import type { Logger } from 'pino';
import type { RollbackController } from '../controller.js';
import type { ReplicaLeadership } from '../ha/replica-leadership.js';
import type { Metrics } from '../observability/metrics.js';
import type { Auth } from './auth.js';
import type { AuthSummary } from './auth-summary.js';
import { errorHandler } from './error-handler.js';
import { forwardToLeader } from './forward-to-leader.js';
import { labelRoute } from './route-label.js';
import { mountHealth } from './routes/health-routes.js';
import { mountJobRoutes } from './routes/job-routes.js';
import { mountTest } from './routes/test-route.js';
import { mountTrigger } from './routes/trigger-route.js';

export const PREFIXES = ['/api/admin/rollback', '/rollback'] as const;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** route-label.ts names of the routes that need operator credentials. */
const OPERATOR_ROUTES: ReadonlySet<string> = new Set(['approve', 'pause', 'resume']);

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
  });
  const api = Router();
  api.use(labelRoute(), o.auth.any);
  const leadership = o.leadership;
  if (leadership) {
    // Operator routes are checked here too, so a follower forwards only what the leader accepts.
    api.use((req, res, next) =>
      OPERATOR_ROUTES.has(String(res.locals['route'])) ? o.auth.operator(req, res, next) : next(),
    );
    api.use(
      forwardToLeader({
        route: () => leadership.route(),
        identity: leadership.identity,
        bodyLimitBytes: o.bodyLimitBytes,
        ...(o.forwardTimeoutMs !== undefined ? { timeoutMs: o.forwardTimeoutMs } : {}),
      }),
    );
  }
  mountTrigger(api, o.controller, json);
  mountTest(api, o.controller, json, o.bodyLimitBytes);
  mountJobRoutes(api, o.controller, json, o.auth.operator, o.authSummary);

  const health = Router();
  mountHealth(health, o.controller, o.metrics, o.authSummary);
  app.use(health);
  for (const prefix of PREFIXES) app.use(prefix, api);
  app.use((_req, res) => {
    res.status(404).json({ error: `no such route; the API lives under ${PREFIXES.join(' and ')}` });
  });
  app.use(errorHandler());
  return app;
}
