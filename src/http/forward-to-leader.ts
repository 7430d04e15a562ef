// A follower's API: every authenticated request for one of the API's own routes is sent to the
// leader and the leader's answer is relayed back, so every replica can be Ready and in the
// Service while only the leader decides. Mounted after authentication (unauthenticated traffic is
// never forwarded) and before body parsing (the raw body goes through, under the same limit).
//
// What crosses to the leader is rebuilt, never copied: the upstream URL is the verified leader's
// origin (replica-leadership.ts: the Lease holder's own pod address, signed by a replica) plus
// the canonical prefix and the route's own path and query, so neither an absolute-form request
// target nor `..` segments can point it anywhere else. The caller's credentials stay here: the
// leader gets a signed, short-lived header saying whom this replica authenticated
// (forward-signature.ts). The body is read first (it is small and bounded) so its digest can be
// signed.
//
// Failures are 503s: Alertmanager retries them, and a retry of a notification the leader did
// record (a forward that timed out after delivery) is answered `duplicate` (fingerprint +
// startsAt), so it is never acted on twice. A request that already was forwarded is never
// forwarded again: leadership moved between two replicas' views, and a retry sorts it out.
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { LeaderRoute } from '../ha/replica-leadership.js';
import { principalOf } from './auth.js';
import { FORWARD_SIGNATURE_HEADER, sha256Hex, signForward } from './forward-signature.js';
import type { ReplicaKey } from './replica-key.js';
import { matchOf } from './route-table.js';

/** Set on relayed answers: which replica decided. */
export const FORWARDED_TO_HEADER = 'x-rollback-forwarded-to';
/** Where forwarded requests go on the leader, whichever prefix the caller used. */
export const CANONICAL_PREFIX = '/api/admin/rollback';

/** Below Alertmanager's webhook timeout, so a 503 reaches it rather than its own timeout. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 10_000;

export interface ForwardToLeaderOptions {
  route: () => LeaderRoute;
  /** This replica's identity, signed into every forward. */
  identity: string;
  key: ReplicaKey;
  bodyLimitBytes: number;
  timeoutMs?: number;
  now?: () => number;
}

// Hop-by-hop headers (RFC 9110 section 7.6.1), the ones node sets itself per connection, and the
// caller's credentials: the leader trusts this replica's signature, never the caller's secret.
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'content-length',
  'authorization',
  'cookie',
  FORWARD_SIGNATURE_HEADER,
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !NOT_FORWARDED.has(k) && !named.includes(k)) out[k] = v;
  }
  return out;
}

// Path segments of the API's routes: no dot segments, no percent-encoding, nothing to resolve.
const SAFE_PATH = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})*\/?$/;

/**
 * Canonical prefix + the matched route's own path + the re-encoded query; undefined when unsafe
 * (the route table already matched it exactly: this is a second line).
 */
export function upstreamPath(routePath: string, originalUrl: string): string | undefined {
  if (!SAFE_PATH.test(routePath)) return undefined;
  const q = originalUrl.indexOf('?');
  const query = q < 0 ? '' : new URLSearchParams(originalUrl.slice(q + 1)).toString();
  return `${CANONICAL_PREFIX}${routePath}${query ? `?${query}` : ''}`;
}

function unavailable(res: Response, error: string): void {
  res.status(503).json({ error });
}

export function forwardToLeader(o: ForwardToLeaderOptions): RequestHandler {
  const timeoutMs = o.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
  return (req, res, next) => {
    const route = o.route();
    if (route.to === 'self') return next();
    const principal = principalOf(res);
    if (principal?.forwardedBy !== undefined)
      return unavailable(
        res,
        `leader changed; retry (${principal.forwardedBy.slice(0, 64)} forwarded this request here, but this replica does not lead)`,
      );
    // Only the API's own routes leave this replica (the route table mounts this on them alone).
    const match = matchOf(res);
    if (!match || !principal) return next();
    const path = upstreamPath(match.path, req.originalUrl);
    if (!path) {
      res.status(404).json({ error: 'no such route (dot segments and escapes are not forwarded)' });
      return;
    }
    if (route.to === 'nobody') return unavailable(res, `${route.reason}; retry`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > o.bodyLimitBytes) return next(tooLarge(o));
    relay(req, res, next, { route, path, principal, timeoutMs }, o);
  };
}

function tooLarge(o: ForwardToLeaderOptions): Error {
  // The shape body-parser gives the error handler, so the answer is the same 413.
  return Object.assign(new Error('request entity too large'), {
    type: 'entity.too.large',
    status: 413,
    limit: o.bodyLimitBytes,
  });
}

function relay(
  req: Request,
  res: Response,
  next: (err?: unknown) => void,
  f: {
    route: Extract<LeaderRoute, { to: 'leader' }>;
    path: string;
    principal: NonNullable<ReturnType<typeof principalOf>>;
    timeoutMs: number;
  },
  o: ForwardToLeaderOptions,
): void {
  const { route, timeoutMs } = f;
  const log = res.locals['log'] as Logger | undefined;
  let settled = false;
  let upstream: ReturnType<typeof httpRequest> | undefined;
  const done = () => {
    settled = true;
    clearTimeout(timer);
    req.removeListener('data', onData);
  };
  const fail = (error: string, err?: unknown) => {
    if (settled) return;
    done();
    upstream?.destroy();
    log?.warn({ leader: route.holder, err: (err as Error | undefined)?.message }, error);
    // Mid-answer there is no status left to change: cut the connection (Alertmanager retries).
    if (res.headersSent) res.destroy();
    else unavailable(res, error);
  };
  const timer = setTimeout(
    () =>
      fail(
        `the leader ${route.holder} did not answer within ${timeoutMs / 1000} s; retry (an alert it did record is answered duplicate, never rolled back twice)`,
      ),
    timeoutMs,
  );

  const chunks: Buffer[] = [];
  let seen = 0;
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > o.bodyLimitBytes) {
      if (settled) return;
      done();
      next(tooLarge(o));
      return;
    }
    chunks.push(chunk);
  };
  // A route that had to read the body before forwarding (the Slack route checks Slack's
  // signature over it first) hands over what it read; the stream has nothing more to give.
  const read = Buffer.isBuffer(req.body) && req.readableEnded;
  if (!read) {
    req.on('data', onData);
    req.once('end', () => {
      if (settled) return;
      req.removeListener('data', onData);
      send(Buffer.concat(chunks));
    });
  }
  // The caller went away: stop the forward too.
  res.once('close', () => {
    if (!settled && !res.writableFinished) {
      done();
      upstream?.destroy();
    }
  });

  if (read) send(req.body as Buffer);

  function send(body: Buffer): void {
    const headers = endToEnd(req.headers);
    const client = req.socket.remoteAddress;
    if (client) {
      const prior = req.headers['x-forwarded-for'];
      headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
    }
    // The id this replica logs the request under, so both replicas' logs line up.
    const requestId = res.getHeader('X-Request-Id');
    if (requestId !== undefined) headers['x-request-id'] = String(requestId);
    headers['content-length'] = String(body.length);
    headers[FORWARD_SIGNATURE_HEADER] = signForward(o.key, {
      method: req.method,
      path: f.path,
      bodySha256: sha256Hex(body),
      at: (o.now ?? Date.now)(),
      by: o.identity,
      role: f.principal.role,
      user: f.principal.user,
      to: route.holder,
      epoch: route.epoch,
    });
    const origin = new URL(route.url);
    // A fresh connection per forward: nothing pooled to a leader that has since gone away.
    const up = httpRequest({
      protocol: 'http:',
      hostname: origin.hostname.replace(/^\[|\]$/g, ''),
      port: origin.port || 80,
      path: f.path,
      method: req.method,
      headers,
      agent: false,
    });
    upstream = up;
    up.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        `could not reach the leader ${route.holder} at ${origin.origin}: ${err.code ?? err.message}; retry`,
        err,
      ),
    );
    up.once('response', (answer) => {
      if (settled) {
        answer.resume();
        return;
      }
      res.status(answer.statusCode ?? 502);
      for (const [k, v] of Object.entries(endToEnd(answer.headers))) {
        if (v !== undefined) res.setHeader(k, v);
      }
      res.setHeader(FORWARDED_TO_HEADER, route.holder);
      answer.once('error', (err) => fail('the leader cut its answer short', err));
      answer.once('end', () => {
        if (answer.complete) done();
      });
      answer.pipe(res);
    });
    up.end(body);
  }
}
