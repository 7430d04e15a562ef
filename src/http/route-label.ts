// Bounded `route` label for rollback_webhook_requests_total: a fixed name per route, never the
// URL. Named before authentication so a 401 is counted against the route it was aimed at.
import type { RequestHandler } from 'express';

const ROUTES: Array<[method: string, pattern: RegExp, name: string]> = [
  ['POST', /^\/trigger\/?$/, 'trigger'],
  ['POST', /^\/test\/?$/, 'test'],
  ['GET', /^\/status\/?$/, 'status'],
  ['GET', /^\/jobs\/?$/, 'jobs'],
  ['GET', /^\/decisions\/?$/, 'decisions'],
  ['GET', /^\/jobs\/[^/]+\/?$/, 'job'],
  ['POST', /^\/jobs\/[^/]+\/approve\/?$/, 'approve'],
  ['POST', /^\/pause\/?$/, 'pause'],
  ['POST', /^\/resume\/?$/, 'resume'],
];

export function labelRoute(): RequestHandler {
  return (req, res, next) => {
    const hit = ROUTES.find(([m, p]) => m === req.method && p.test(req.path));
    res.locals['route'] = hit ? hit[2] : 'unmatched';
    next();
  };
}

export function route(name: string): RequestHandler {
  return (_req, res, next) => {
    res.locals['route'] = name;
    next();
  };
}
