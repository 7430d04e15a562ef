// The one table of HTTP routes. Each route says, in its own entry, who may call it (its
// credential), whether it is an operator action (JSON only, no cross-site browser request), and
// whether a follower forwards it to the leader (every API route does). Matching is exact and
// byte for byte: no case folding, no trailing slash, no decoding of escapes, so no spelling of a
// path can reach a handler under another route's authorization. Anything the table does not name
// is a 404 before any handler (and before any credential is asked for); a known path with another
// method is a 405 with `Allow`.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MethodNotAllowedError, NotFoundError } from '../model/errors.js';

/**
 * Who may call a route: nobody needs to ("none"), Alertmanager or an operator, an operator only,
 * or Slack (its signature, checked by the route's `guard`; on a leader also a replica's signed
 * relay of such a request, checked by `authenticate('slack')`).
 */
export type Credential = 'none' | 'any' | 'operator' | 'slack';

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** Literal segments and `:name` parameters, e.g. `/jobs/:id/approve`. */
  path: string;
  /** The bounded `route` label of rollback_webhook_requests_total. */
  name: string;
  /** `api`: under both API prefixes, and forwarded to the leader by a follower; `root`: probes. */
  scope: 'api' | 'root';
  credential: Credential;
  /** Changes what the controller does: JSON or no body, never a cross-site browser request. */
  operatorAction?: boolean;
  /** What each `:name` segment must look like; anything else is no such route. */
  params?: Record<string, RegExp>;
  /** The route's own checks of its caller, run before a follower forwards (Slack's signature). */
  guard?: RequestHandler[];
  handlers: RequestHandler[];
}

export const API_PREFIXES = ['/api/admin/rollback', '/rollback'] as const;

export type RouteMatch =
  | { kind: 'route'; route: ApiRoute; params: Record<string, string>; path: string }
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

function matchPath(
  route: ApiRoute,
  segments: readonly string[],
): Record<string, string> | undefined {
  const want = route.path.split('/');
  if (want.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const got = segments[i] ?? '';
    if (w.startsWith(':')) {
      const name = w.slice(1);
      const shape = route.params?.[name];
      if (!shape || !shape.test(got)) return undefined;
      params[name] = got;
    } else if (w !== got) return undefined;
  }
  return params;
}

/** The route a request names, exactly (pure: the method and the URL path as sent). */
export function matchRoute(table: readonly ApiRoute[], method: string, path: string): RouteMatch {
  const candidates: Array<{ scope: ApiRoute['scope']; rest: string }> = [
    { scope: 'root', rest: path },
  ];
  for (const prefix of API_PREFIXES)
    if (path.startsWith(`${prefix}/`))
      candidates.push({ scope: 'api', rest: path.slice(prefix.length) });
  const allow = new Set<string>();
  for (const { scope, rest } of candidates) {
    const segments = rest.split('/');
    for (const route of table) {
      if (route.scope !== scope) continue;
      const params = matchPath(route, segments);
      if (!params) continue;
      // HEAD is GET without a body (node drops the body).
      if (route.method === method || (route.method === 'GET' && method === 'HEAD'))
        return { kind: 'route', route, params, path: rest };
      allow.add(route.method);
      if (route.method === 'GET') allow.add('HEAD');
    }
  }
  return allow.size ? { kind: 'method', allow: [...allow] } : { kind: 'none' };
}

/** The match of the request being served (set by routeTable before any handler runs). */
export function matchOf(res: Response): Extract<RouteMatch, { kind: 'route' }> | undefined {
  return res.locals['match'] as Extract<RouteMatch, { kind: 'route' }> | undefined;
}

/** Runs handlers in order, like a route's stack, passing errors (thrown or rejected) on. */
function runStack(
  handlers: readonly RequestHandler[],
  req: Request,
  res: Response,
  done: NextFunction,
) {
  let i = 0;
  const next = (err?: unknown): void => {
    if (err !== undefined && err !== null) return done(err);
    const handler = handlers[i++];
    if (!handler) return done();
    try {
      const result: unknown = handler(req, res, next);
      if (result instanceof Promise) result.catch((e: unknown) => done(e ?? new Error('rejected')));
    } catch (e) {
      done(e);
    }
  };
  next();
}

export interface RouteSteps {
  /** The credential check for a route that declares one. */
  authenticate(credential: Exclude<Credential, 'none'>): RequestHandler;
  /** The JSON-only, same-origin check of operator actions. */
  operatorAction: RequestHandler;
  /** On a follower: send the request to the leader (API routes only). */
  forward?: RequestHandler;
}

/** The express middleware that serves the table: match, then the route's own steps in order. */
export function routeTable(table: readonly ApiRoute[], steps: RouteSteps): RequestHandler {
  const stacks = new Map<ApiRoute, RequestHandler[]>(
    table.map((route) => [
      route,
      [
        ...(route.credential !== 'none' ? [steps.authenticate(route.credential)] : []),
        ...(route.operatorAction ? [steps.operatorAction] : []),
        ...(route.guard ?? []),
        ...(route.scope === 'api' && steps.forward ? [steps.forward] : []),
        ...route.handlers,
      ],
    ]),
  );
  return (req, res, next) => {
    const m = matchRoute(table, req.method, req.path);
    if (m.kind === 'none')
      return next(
        new NotFoundError(`no such route; the API lives under ${API_PREFIXES.join(' and ')}`),
      );
    if (m.kind === 'method') {
      res.setHeader('Allow', m.allow.join(', '));
      return next(new MethodNotAllowedError(`${req.path} takes ${m.allow.join(' or ')} only`));
    }
    res.locals['route'] = m.route.name;
    res.locals['match'] = m;
    req.params = m.params;
    runStack(stacks.get(m.route) ?? [], req, res, next);
  };
}
