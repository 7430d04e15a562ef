// Names the cluster on every message when one is configured: controllers of several clusters
// often post to one deployment channel, and "Deployment prod/checkout" alone is ambiguous there.
import { context, slackMessage, type SlackMessage } from './block-kit.js';
import { esc } from './job-facts.js';

export function withCluster(message: SlackMessage, cluster: string | undefined): SlackMessage {
  if (!cluster) return message;
  const name = esc(cluster, 100);
  const blocks = [...message.blocks];
  // Right under the header, where the eye lands first.
  const at = blocks[0]?.type === 'header' ? 1 : 0;
  return slackMessage(`[${name}] ${message.text}`, [
    ...blocks.slice(0, at),
    context([`Cluster: *${name}*`]),
    ...blocks.slice(at),
  ]);
}
