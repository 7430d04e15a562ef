import type { KillSwitchNotice } from '../model/job-notifier.js';
import { header, section, slackMessage, type SlackMessage } from './block-kit.js';
import { esc } from './job-facts.js';
import type { MessageContext } from './message-context.js';
import { withCluster } from './with-cluster.js';

/** Pause and resume of automatic rollbacks: the channel learns why alerts stop (or start) acting. */
export function buildKillSwitchMessage(
  n: KillSwitchNotice,
  ctx: MessageContext = {},
): SlackMessage {
  const by = esc(n.by, 120);
  const reason = n.reason ? `\n*Reason:* ${esc(n.reason, 500)}` : '';
  const message = n.paused
    ? slackMessage(`Automatic rollbacks paused by ${by}`, [
        header(':double_vertical_bar: Automatic rollbacks paused'),
        section(
          `Paused by ${by}. Alerts are still decided and recorded, but no rollback starts until someone resumes (a running one finishes).${reason}`,
        ),
      ])
    : slackMessage(`Automatic rollbacks resumed by ${by}`, [
        header(':arrow_forward: Automatic rollbacks resumed'),
        section(`Resumed by ${by}: queued rollbacks start, and new alerts act on their own again.`),
      ]);
  return withCluster(message, ctx);
}
