// The express app: request ids and logging, metrics per request, the routes under both prefixes
// (on a follower: authenticated, then forwarded to the leader), then one error handler.
import { randomUUID } from 'node:crypto';
import express, { Router, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { RollbackController } from '../controller.js';
import type { ReplicaLeadership } from '../ha/replica-leadership.js';
import type { Metrics } from '../observability/metrics.js';
import { checkForwardedBody, type Auth } from './auth.js';
import type { AuthSummary } from './auth-summary.js';
import { errorHandler } from './error-handler.js';
import { forwardToLeader } from './forward-to-leader.js';
import { operatorRequestGuard } from './operator-request-guard.js';
import { labelRoute } from './route-label.js';
import { mountHealth } from './routes/health-routes.js';
import { mountJobRoutes } from './routes/job-routes.js';
import { mountTest } from './routes/test-route.js';
import { mountTrigger } from './routes/trigger-route.js';

export const PREFIXES = ['/api/admin/rollback', '/rollback'] as const;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** route-label.ts names of the operator routes, and of those that take operator credentials only. */
const OPERATOR_ROUTES: ReadonlySet<string> = new Set(['approve', 'pause', 'resume']);
const OPERATOR_ONLY: ReadonlySet<string> = new Set(['approve', 'resume']);

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
  /** Slack's request URL (slack-interactions-route.ts): Slack-signed, no other credential. */
  slackInteractions?: RequestHandler[];
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
  const api = Router();
  api.use(labelRoute(), o.auth.any);
  // Operator routes are checked before forwarding, so a follower forwards only what the leader
  // accepts, and the leader checks them again (the signed role).
  const guard = operatorRequestGuard();
  api.use((req, res, next) => {
    const name = String(res.locals['route']);
    if (!OPERATOR_ROUTES.has(name)) return next();
    return guard(req, res, (err?: unknown) =>
      err !== undefined || !OPERATOR_ONLY.has(name) ? next(err) : o.auth.operator(req, res, next),
    );
  });
  const leadership = o.leadership;
  if (leadership && o.auth.key) {
    api.use(
      forwardToLeader({
        route: () => leadership.route(),
        identity: leadership.identity,
        key: o.auth.key,
        bodyLimitBytes: o.bodyLimitBytes,
        ...(o.forwardTimeoutMs !== undefined ? { timeoutMs: o.forwardTimeoutMs } : {}),
      }),
    );
  }
  mountTrigger(api, o.controller, json);
  mountTest(api, o.controller, json, o.bodyLimitBytes);
  mountJobRoutes(api, o.controller, json, o.authSummary);

  const health = Router();
  mountHealth(health, o.controller, o.metrics, o.authSummary);
  app.use(health);
  const slack = o.slackInteractions;
  if (slack) {
    const label: RequestHandler = (_req, res, next) => {
      res.locals['route'] = 'slack_interactions';
      next();
    };
    for (const prefix of PREFIXES) app.post(`${prefix}/slack/interactions`, label, ...slack);
  }
  for (const prefix of PREFIXES) app.use(prefix, api);
  app.use((_req, res) => {
    res.status(404).json({ error: `no such route; the API lives under ${PREFIXES.join(' and ')}` });
  });
  app.use(errorHandler());
  return app;
}
