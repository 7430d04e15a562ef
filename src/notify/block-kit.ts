// The few Block Kit shapes our messages use, and builders that enforce Slack's limits so a long
// alert can never make Slack reject the whole message (`invalid_blocks` is a 400, not retried).
// https://docs.slack.dev/reference/block-kit/blocks
import { truncateMrkdwn } from './truncate-mrkdwn.js';

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  headerText: 150,
  contextElements: 10,
  /** Top-level `text` may be longer, but it is the notification line: keep it short. */
  fallbackText: 3000,
} as const;

export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: MrkdwnText }
  | { type: 'section'; fields: MrkdwnText[] }
  | { type: 'context'; elements: MrkdwnText[] }
  | { type: 'actions'; block_id: string; elements: SlackButton[] }
  | { type: 'divider' };

/** A button whose click Slack sends back as an interaction (`action_id`, `value`). */
export interface SlackButton {
  type: 'button';
  action_id: string;
  text: PlainText;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: {
    title: PlainText;
    text: PlainText;
    confirm: PlainText;
    deny: PlainText;
  };
}

export interface SlackMessage {
  /** Notification and screen-reader fallback; same escaping rules as the blocks. */
  text: string;
  blocks: SlackBlock[];
}

/** Header text is ours only (never alert text): plain_text is shown as-is, so it is not escaped. */
export function header(text: string): SlackBlock {
  const t =
    text.length > SLACK_LIMITS.headerText ? `${text.slice(0, SLACK_LIMITS.headerText - 1)}…` : text;
  return { type: 'header', text: { type: 'plain_text', text: t, emoji: true } };
}

/** `text` must already be escaped mrkdwn. */
export function section(text: string): SlackBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(text, SLACK_LIMITS.sectionText) },
  };
}

/** Two-column facts: `[label, escaped value]`. Empty values are left out. */
export function fields(pairs: Array<[string, string | undefined]>): SlackBlock | undefined {
  const items = pairs
    .filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '')
    .slice(0, SLACK_LIMITS.fields)
    .map(([label, value]) => ({
      type: 'mrkdwn' as const,
      text: truncateMrkdwn(`*${label}*\n${value}`, SLACK_LIMITS.fieldText),
    }));
  return items.length ? { type: 'section', fields: items } : undefined;
}

export function context(parts: Array<string | undefined>): SlackBlock | undefined {
  const elements = parts
    .filter((p): p is string => p !== undefined && p !== '')
    .slice(0, SLACK_LIMITS.contextElements)
    .map((text) => ({
      type: 'mrkdwn' as const,
      text: truncateMrkdwn(text, SLACK_LIMITS.sectionText),
    }));
  return elements.length ? { type: 'context', elements } : undefined;
}

export function button(
  actionId: string,
  label: string,
  value: string,
  o: { style?: 'primary' | 'danger'; confirm?: string } = {},
): SlackButton {
  const plain = (text: string): PlainText => ({ type: 'plain_text', text });
  return {
    type: 'button',
    action_id: actionId,
    text: plain(label),
    value,
    ...(o.style ? { style: o.style } : {}),
    ...(o.confirm
      ? {
          confirm: {
            title: plain(`${label}?`),
            text: plain(o.confirm),
            confirm: plain(label),
            deny: plain('Cancel'),
          },
        }
      : {}),
  };
}

export function actions(blockId: string, buttons: SlackButton[]): SlackBlock | undefined {
  return buttons.length ? { type: 'actions', block_id: blockId, elements: buttons } : undefined;
}

/** Drops the blocks that came out empty and keeps the message within Slack's block count. */
export function slackMessage(text: string, blocks: Array<SlackBlock | undefined>): SlackMessage {
  const kept = blocks.filter((b): b is SlackBlock => b !== undefined);
  return {
    text: truncateMrkdwn(text, SLACK_LIMITS.fallbackText),
    blocks: kept.slice(0, SLACK_LIMITS.blocks),
  };
}
