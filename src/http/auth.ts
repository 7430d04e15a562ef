// Authentication for every protected route: HTTP Basic through passport-http, `Bearer <secret>`
// (Alertmanager's http_config.authorization), and the documented raw `Basic <secret>` form.
// Operator routes (pause, resume, approve) need the operator credentials when they are set.
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { BasicStrategy } from 'passport-http';
import { safeEqual } from './safe-equal.js';

export interface Credentials {
  webhookUser: string;
  webhookSecret: string | undefined;
  operatorUser: string | undefined;
  operatorSecret: string | undefined;
}

export interface Principal {
  role: 'webhook' | 'operator';
  user: string;
}

const CHALLENGE = 'Basic realm="rollback-controller", Bearer realm="rollback-controller"';
const MAX_HEADER = 4096;

export interface Auth {
  /** Webhook or operator credentials. */
  any: RequestHandler;
  /** Operator credentials when configured, else the webhook credentials. */
  operator: RequestHandler;
}

export function createAuth(getCreds: () => Credentials): Auth {
  const verify = (user: string, pass: string): Principal | undefined => {
    const c = getCreds();
    // Evaluate both comparisons every time so timing does not reveal which user exists.
    const asWebhook =
      safeEqual(user, c.webhookUser) &&
      c.webhookSecret !== undefined &&
      safeEqual(pass, c.webhookSecret);
    const asOperator =
      c.operatorSecret !== undefined &&
      safeEqual(user, c.operatorUser ?? c.webhookUser) &&
      safeEqual(pass, c.operatorSecret);
    if (asOperator) return { role: 'operator', user };
    if (asWebhook) return { role: 'webhook', user };
    return undefined;
  };
  const verifyToken = (token: string): Principal | undefined => {
    const c = getCreds();
    const asWebhook = c.webhookSecret !== undefined && safeEqual(token, c.webhookSecret);
    const asOperator = c.operatorSecret !== undefined && safeEqual(token, c.operatorSecret);
    if (asOperator) return { role: 'operator', user: c.operatorUser ?? c.webhookUser };
    if (asWebhook) return { role: 'webhook', user: c.webhookUser };
    return undefined;
  };

  const accepted = new Map<string, Principal>();
  const authenticator = new passport.Passport();
  authenticator.use(
    'basic',
    new BasicStrategy((user, pass, done) => {
      done(null, verify(user, pass) ?? false);
    }),
  );

  const deny = (res: Response, message: string) => {
    res.setHeader('WWW-Authenticate', CHALLENGE);
    res.status(401).json({ error: message });
  };

  const identify = (
    req: Request,
    res: Response,
    next: NextFunction,
    onPrincipal: (p: Principal) => void,
  ) => {
    const c = getCreds();
    if (c.webhookSecret === undefined) {
      res.status(503).json({
        error:
          'ROLLBACK_WEBHOOK_SECRET is not set: set it or ROLLBACK_WEBHOOK_SECRET_FILE to enable this route (the controller never runs unauthenticated)',
      });
      return;
    }
    const header = req.headers.authorization;
    if (!header) return deny(res, 'authentication required: HTTP Basic or Bearer credentials');
    if (header.length > MAX_HEADER) return deny(res, 'invalid credentials');
    const bearer = /^Bearer +(\S+)\s*$/i.exec(header);
    if (bearer) {
      const p = verifyToken(bearer[1] ?? '');
      return p ? onPrincipal(p) : deny(res, 'invalid credentials');
    }
    const basic = /^Basic +(\S+)\s*$/i.exec(header);
    if (!basic) return deny(res, 'unsupported authorization scheme: use Basic or Bearer');
    const token = basic[1] ?? '';
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    if (!decoded.includes(':')) {
      // Compatibility form `Authorization: Basic <secret>`: the token is the secret itself.
      const p = verifyToken(token);
      return p ? onPrincipal(p) : deny(res, 'invalid credentials');
    }
    // Alertmanager sends the same header on every notification: remember accepted ones (by
    // digest, so the lookup reveals nothing about the secret) instead of running passport's
    // Basic strategy, which costs several percent of a request, every time.
    const digest = createHash('sha256').update(header).digest('hex');
    const known = accepted.get(digest);
    if (known) return onPrincipal(known);
    const run = authenticator.authenticate(
      'basic',
      { session: false },
      (err: unknown, principal: Principal | false) => {
        if (err) return next(err);
        if (!principal) return deny(res, 'invalid credentials');
        if (accepted.size >= 64) accepted.clear();
        accepted.set(digest, principal);
        return onPrincipal(principal);
      },
    ) as RequestHandler;
    void run(req, res, next);
  };

  const any: RequestHandler = (req, res, next) =>
    identify(req, res, next, (p) => {
      res.locals['principal'] = p;
      next();
    });
  const operator: RequestHandler = (req, res, next) =>
    identify(req, res, next, (p) => {
      const c = getCreds();
      if (c.operatorSecret !== undefined && p.role !== 'operator') {
        res.setHeader('WWW-Authenticate', CHALLENGE);
        res.status(401).json({
          error:
            'operator credentials required (ROLLBACK_OPERATOR_USER / ROLLBACK_OPERATOR_SECRET)',
        });
        return;
      }
      res.locals['principal'] = p;
      next();
    });
  return { any, operator };
}
