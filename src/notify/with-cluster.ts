// Names the cluster (and the API server it talks to) on every message when known: controllers of several clusters
// often post to one deployment channel, and "Deployment prod/checkout" alone is ambiguous there.
import { context, slackMessage, type SlackMessage } from './block-kit.js';
import { esc } from './job-facts.js';
import type { MessageContext } from './message-context.js';

export function withCluster(
  message: SlackMessage,
  ctx: Pick<MessageContext, 'cluster' | 'kube'>,
): SlackMessage {
  const { cluster, kube } = ctx;
  if (!cluster && !kube) return message;
  const name = cluster ? esc(cluster, 100) : undefined;
  // The API server and context tell apart two controllers that were given the same name.
  const where = kube ? `\`${esc(kube.server, 200)}\` (context ${esc(kube.context, 100)})` : '';
  const line = name ? `Cluster: *${name}*${where ? ` · ${where}` : ''}` : `Cluster: ${where}`;
  const blocks = [...message.blocks];
  // Right under the header, where the eye lands first.
  const at = blocks[0]?.type === 'header' ? 1 : 0;
  return slackMessage(name ? `[${name}] ${message.text}` : message.text, [
    ...blocks.slice(0, at),
    context([line]),
    ...blocks.slice(at),
  ]);
}
