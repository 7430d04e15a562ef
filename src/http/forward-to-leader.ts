// A follower's API: every authenticated request is streamed to the leader (the URL it publishes on
// the Lease) and the leader's answer is relayed back, so every replica can be Ready and in the
// Service while only the leader decides. Mounted after authentication (unauthenticated traffic is
// never forwarded) and before body parsing (the raw body goes through, under the same limit).
//
// Failures are 503s: Alertmanager retries them, and a retry of a notification the leader did
// record (a forward that timed out after delivery) is answered `duplicate` (fingerprint +
// startsAt), so it is never acted on twice. A request that already carries the hop header is
// never forwarded again: leadership moved between two replicas' views, and a retry sorts it out.
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { LeaderRoute } from '../ha/replica-leadership.js';

/** Set on forwarded requests (the follower's identity): the loop guard. */
export const FORWARDED_BY_HEADER = 'x-rollback-forwarded-by';
/** Set on relayed answers: which replica decided. */
export const FORWARDED_TO_HEADER = 'x-rollback-forwarded-to';

/** Below Alertmanager's webhook timeout, so a 503 reaches it rather than its own timeout. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 10_000;

export interface ForwardToLeaderOptions {
  route: () => LeaderRoute;
  /** This replica's identity, sent in the hop header. */
  identity: string;
  bodyLimitBytes: number;
  timeoutMs?: number;
}

// Hop-by-hop headers (RFC 9110 section 7.6.1) and the ones node sets itself per connection.
const HOP_BY_HOP = new Set([
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
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k) && !named.includes(k)) out[k] = v;
  }
  return out;
}

function unavailable(res: Response, error: string): void {
  res.status(503).json({ error });
}

export function forwardToLeader(o: ForwardToLeaderOptions): RequestHandler {
  const timeoutMs = o.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
  return (req, res, next) => {
    const route = o.route();
    if (route.to === 'self') return next();
    if (req.headers[FORWARDED_BY_HEADER] !== undefined)
      return unavailable(
        res,
        `leader changed; retry (${String(req.headers[FORWARDED_BY_HEADER]).slice(0, 64)} forwarded this request here, but this replica does not lead)`,
      );
    if (route.to === 'nobody') return unavailable(res, `${route.reason}; retry`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > o.bodyLimitBytes) return next(tooLarge(o));
    relay(req, res, next, route, o, timeoutMs);
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
  route: Extract<LeaderRoute, { to: 'leader' }>,
  o: ForwardToLeaderOptions,
  timeoutMs: number,
): void {
  const log = res.locals['log'] as Logger | undefined;
  const headers = endToEnd(req.headers);
  const client = req.socket.remoteAddress;
  if (client) {
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
  }
  // The id this replica logs the request under, so both replicas' logs line up.
  const requestId = res.getHeader('X-Request-Id');
  if (requestId !== undefined) headers['x-request-id'] = String(requestId);
  headers[FORWARDED_BY_HEADER] = o.identity;

  let settled = false;
  // A fresh connection per forward: nothing pooled to a leader that has since gone away.
  const upstream = httpRequest(new URL(req.originalUrl, route.url), {
    method: req.method,
    headers,
    agent: false,
  });
  const done = () => {
    settled = true;
    clearTimeout(timer);
    req.removeListener('data', onData);
  };
  const fail = (error: string, err?: unknown) => {
    if (settled) return;
    done();
    upstream.destroy();
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

  let seen = 0;
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > o.bodyLimitBytes) {
      if (settled) return;
      done();
      upstream.destroy();
      next(tooLarge(o));
      return;
    }
    if (!upstream.write(chunk)) {
      req.pause();
      upstream.once('drain', () => req.resume());
    }
  };
  req.on('data', onData);
  req.once('end', () => {
    if (!settled) upstream.end();
  });
  // The caller went away: stop the forward too.
  res.once('close', () => {
    if (!settled && !res.writableFinished) {
      done();
      upstream.destroy();
    }
  });

  upstream.once('error', (err: NodeJS.ErrnoException) =>
    fail(
      `could not reach the leader ${route.holder} at ${route.url}: ${err.code ?? err.message}; retry`,
      err,
    ),
  );
  upstream.once('response', (answer) => {
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
      if (!answer.complete) return;
      done();
      // The leader answered before taking the whole body (a 401, say): drop the rest.
      if (!upstream.writableEnded) upstream.destroy();
    });
    answer.pipe(res);
  });
}
