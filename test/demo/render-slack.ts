// Renders a Slack Block Kit message as plain terminal lines: the header, section text, fields as
// "Label: value", context joined on one line. mrkdwn is reduced to what a terminal shows well
// (a blockquote is `>` at the start of a line; escaped text arrives as `&gt;`).
import type { SlackPayload } from '../support/slack-sink.js';

const EMOJI: Record<string, string> = {
  alarm_clock: '⏰',
  arrows_counterclockwise: '🔄',
  double_vertical_bar: '⏸',
  fast_forward: '⏩',
  hourglass_flowing_sand: '⏳',
  information_source: 'ℹ',
  large_green_circle: '🟢',
  no_entry: '⛔',
  raised_hand: '✋',
  rewind: '⏪',
  rotating_light: '🚨',
  snowflake: '❄',
  white_check_mark: '✅',
  x: '❌',
};

/** mrkdwn → plain: emoji codes, `<url|label>` links, *bold*, `code`, quotes, HTML entities. */
export function plainText(mrkdwn: string): string {
  return mrkdwn
    .replace(/^>\s?/gm, '» ')
    .replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<([^>]+)>/g, '$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:])/gm, '$1$2')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:])/gm, '$1$2')
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function renderSlackMessage(message: SlackPayload): string[] {
  const lines: string[] = [];
  const add = (text: string, indent = '') => {
    for (const line of plainText(text).split('\n')) lines.push(`${indent}${line}`);
  };
  if (message.channel) lines.push(`[${message.channel}]`);
  if (!message.blocks?.length) {
    add(message.text ?? message.raw ?? '');
    return lines;
  }
  for (const block of message.blocks) {
    if (block.type === 'header' && block.text) {
      add(`■ ${block.text.text}`);
    } else if (block.type === 'section' && block.text) {
      add(block.text.text);
    } else if (block.type === 'section' && block.fields) {
      for (const f of block.fields) {
        const [label, ...value] = plainText(f.text).split('\n');
        lines.push(`${label}: ${value.join(' / ')}`);
      }
    } else if (block.type === 'context' && block.elements) {
      lines.push(block.elements.map((e) => plainText(e.text)).join(' · '));
    } else if (block.type === 'divider') {
      lines.push('─'.repeat(20));
    }
  }
  return lines;
}
