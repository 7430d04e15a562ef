// POST <prefix>/slack/interactions: Slack's request URL for button clicks. Slack's signature is
// the route's credential (Slack cannot send ours), checked by the route's guard over the raw body:
// a request whose signature, timestamp or freshness fails is a 401 and nothing else happens. A
// follower checks it too (so it never forwards unauthenticated traffic) and then forwards like
// every other route: the replicas' signed forward (forward-to-leader.ts) says a replica verified
// a Slack request and covers the body's digest. The leader verifies that forward and Slack's
// signature again (replays are remembered there, whichever replica they came through) and acts.
// Slack wants an answer within 3 s: the click is acknowledged at once and applied right after;
// its result reaches the user through the job's message or an ephemeral answer.
import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { LeaderRoute } from '../../ha/replica-leadership.js';
import type { SlackInteractions } from '../../slack/slack-interactions.js';
import type { SlackSignatureVerifier } from '../../slack/slack-signature-verifier.js';
import { checkForwardedBody, principalOf, type Principal } from '../auth.js';
import type { ApiRoute } from '../route-table.js';

export interface SlackRouteOptions {
  verifier: SlackSignatureVerifier;
  interactions: SlackInteractions;
  bodyLimitBytes: number;
  /** With leader election: where the click is applied (a follower does not remember it). */
  route?: () => LeaderRoute;
}

const SLACK: Principal = { role: 'slack', user: 'slack' };

/** The route's entry in the route table. */
export function slackInteractionsRoutes(o: SlackRouteOptions): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/slack/interactions',
      name: 'slack_interactions',
      scope: 'api',
      credential: 'slack',
      guard: slackSignatureGuard(o),
      handlers: [slackInteractionsHandler(o)],
    },
  ];
}

/** Reads the raw body (a relayed one must be the body the follower signed) and checks Slack's signature. */
export function slackSignatureGuard(o: SlackRouteOptions): RequestHandler[] {
  const raw = express.raw({
    type: () => true,
    limit: o.bodyLimitBytes,
    verify: checkForwardedBody,
  });
  const check: RequestHandler = (req, res, next) => {
    const log = res.locals['log'] as Logger | undefined;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const where = o.route?.() ?? { to: 'self' as const };
    const verdict = o.verifier.check(
      { timestamp: req.get('x-slack-request-timestamp'), signature: req.get('x-slack-signature') },
      body,
      { remember: where.to === 'self' },
    );
    if (!verdict.ok) {
      log?.warn({ reason: verdict.reason }, 'slack interaction refused');
      res.status(401).json({ error: `not a request signed by Slack: ${verdict.reason}` });
      return;
    }
    // A verified relay already names its principal (which replica forwarded it).
    if (!principalOf(res)) res.locals['principal'] = SLACK;
    next();
  };
  return [raw, check];
}

/** On the replica that acts (the leader, or the only one): acknowledge, then apply. */
export function slackInteractionsHandler(o: SlackRouteOptions): RequestHandler {
  return (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
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
}
