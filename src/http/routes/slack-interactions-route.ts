// POST <prefix>/slack/interactions: Slack's request URL for button clicks. Slack's signature is
// the route's only credential (Slack cannot send ours): a request whose signature, timestamp or
// freshness fails is a 401 and nothing else happens. A follower checks the signature too (so it
// never forwards unauthenticated traffic) and passes the raw body and Slack's headers to the
// verified leader, which checks them again (replays are remembered there) and acts. Slack wants
// an answer within 3 s: the click is acknowledged at once and applied right after; its result
// reaches the user through the job's message or an ephemeral answer.
import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { LeaderRoute } from '../../ha/replica-leadership.js';
import type { SlackInteractions } from '../../slack/slack-interactions.js';
import type { SlackSignatureVerifier } from '../../slack/slack-signature-verifier.js';
import { CANONICAL_PREFIX } from '../forward-to-leader.js';
import type { ApiRoute } from '../route-table.js';

export interface SlackRouteOptions {
  verifier: SlackSignatureVerifier;
  interactions: SlackInteractions;
  bodyLimitBytes: number;
  /** With leader election: where the click is applied. */
  route?: () => LeaderRoute;
  forwardTimeoutMs?: number;
  fetch?: typeof fetch;
}

const SLACK_HEADERS = ['x-slack-request-timestamp', 'x-slack-signature'] as const;

/**
 * The route's entry in the route table. Its credential is Slack's signature, which the handler
 * checks itself (the table's own credentials are ours, and Slack cannot send them); the table's
 * forward step passes a request with no principal of ours through to it, and it forwards itself.
 */
export function slackInteractionsRoutes(o: SlackRouteOptions): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/slack/interactions',
      name: 'slack_interactions',
      scope: 'api',
      credential: 'none',
      handlers: slackInteractionsRoute(o),
    },
  ];
}

export function slackInteractionsRoute(o: SlackRouteOptions): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit: o.bodyLimitBytes });
  const handle: RequestHandler = async (req, res) => {
    const log = res.locals['log'] as Logger | undefined;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const headers = {
      timestamp: req.get('x-slack-request-timestamp'),
      signature: req.get('x-slack-signature'),
    };
    const where = o.route?.() ?? { to: 'self' as const };
    const check = o.verifier.check(headers, body, { remember: where.to === 'self' });
    if (!check.ok) {
      log?.warn({ reason: check.reason }, 'slack interaction refused');
      res.status(401).json({ error: `not a request signed by Slack: ${check.reason}` });
      return;
    }
    if (where.to === 'nobody') {
      res.status(503).json({ error: `${where.reason}; retry` });
      return;
    }
    if (where.to === 'leader') {
      const answer = await relay(where.url, body, req, o).catch(() => undefined);
      if (!answer) res.status(503).json({ error: `the leader ${where.holder} did not answer` });
      else res.status(answer.status).type('application/json').send(answer.text);
      return;
    }
    const payload = new URLSearchParams(body.toString('utf8')).get('payload');
    let parsed: unknown;
    try {
      parsed = payload === null ? undefined : JSON.parse(payload);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      res.status(400).json({ error: 'expected a form body with a JSON `payload` field' });
      return;
    }
    res.status(200).end();
    void o.interactions.handle(parsed);
  };
  return [raw, handle];
}

async function relay(
  leaderUrl: string,
  body: Buffer,
  req: express.Request,
  o: SlackRouteOptions,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {
    'content-type': req.get('content-type') ?? 'application/x-www-form-urlencoded',
  };
  for (const h of SLACK_HEADERS) headers[h] = req.get(h) ?? '';
  const url = new URL(`${CANONICAL_PREFIX}/slack/interactions`, leaderUrl);
  const res = await (o.fetch ?? fetch)(url, {
    method: 'POST',
    headers,
    body: new Uint8Array(body),
    signal: AbortSignal.timeout(o.forwardTimeoutMs ?? 2500),
  });
  return { status: res.status, text: await res.text() };
}
