// The ways a Slack click reaches the controller, from the settings: Socket Mode with an app-level
// token (only the leader connects), and/or the request URL with a signing secret. Both feed one
// SlackInteractions, so a click is judged the same way whichever way it came.
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { ReplicaLeadership } from '../ha/replica-leadership.js';
import { slackInteractionsRoutes } from '../http/routes/slack-interactions-route.js';
import type { ApiRoute } from '../http/route-table.js';
import type { SlackSettings } from '../notify/slack-from-env.js';
import { SlackInteractions, type SlackControl } from './slack-interactions.js';
import { SlackSignatureVerifier } from './slack-signature-verifier.js';
import { SlackSocket } from './slack-socket.js';

export function slackInteractionsFromSettings(
  s: SlackSettings,
  o: {
    client: WebClient | undefined;
    controller: SlackControl;
    approvers: readonly string[];
    logger: Logger;
    bodyLimitBytes: number;
    leadership?: ReplicaLeadership;
    now?: () => number;
  },
): { socket?: SlackSocket; routes?: ApiRoute[] } {
  if (!o.client || !s.channel || (!s.appToken && !s.signingSecret)) return {};
  const interactions = new SlackInteractions({
    controller: o.controller,
    approvers: o.approvers,
    client: o.client,
    channel: s.channel,
    logger: o.logger,
    ...(o.now ? { now: o.now } : {}),
  });
  const leadership = o.leadership;
  return {
    ...(s.appToken
      ? {
          socket: new SlackSocket({
            appToken: s.appToken,
            apiUrl: s.apiUrl,
            interactions,
            leading: () => !leadership || leadership.standbyReason() === undefined,
            logger: o.logger,
          }),
        }
      : {}),
    ...(s.signingSecret
      ? {
          routes: slackInteractionsRoutes({
            verifier: new SlackSignatureVerifier(s.signingSecret, o.now),
            interactions,
            bodyLimitBytes: o.bodyLimitBytes,
            ...(leadership ? { route: () => leadership.route() } : {}),
          }),
        }
      : {}),
  };
}
