// A button click as Slack sends it (a `block_actions` interaction payload), reduced to what the
// controller acts on. Only our own action ids are accepted; anything else is ignored, not an
// error (Slack sends other interactions too, such as message shortcuts).
import { z } from 'zod';
import type { SlackAction } from '../model/job.js';
import { SlackActionIds } from '../notify/build-app-message.js';

const SLACK_ACTION_IDS: Readonly<Record<string, SlackAction['action']>> = {
  [SlackActionIds.Approve]: 'approve',
  [SlackActionIds.Deny]: 'deny',
  [SlackActionIds.Pause]: 'pause',
  [SlackActionIds.Resume]: 'resume',
};

export interface ParsedSlackAction {
  action: SlackAction['action'];
  jobId: string;
  user: SlackAction['user'];
  /** Where the click came from: refusals are answered there, to the clicking user only. */
  channel?: string;
}

const payloadSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({
    id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/),
    username: z.string().max(200).optional(),
    name: z.string().max(200).optional(),
  }),
  channel: z.object({ id: z.string().regex(/^[CGD][A-Z0-9]{2,20}$/) }).optional(),
  actions: z
    .array(
      z.object({
        action_id: z.string().max(255),
        value: z.string().max(2000).optional(),
      }),
    )
    .min(1),
});

const JOB_ID = /^[a-z0-9-]{1,64}$/;

/** The first of our actions in the payload, or undefined when it carries none of ours. */
export function parseSlackAction(payload: unknown): ParsedSlackAction | undefined {
  const p = payloadSchema.safeParse(payload);
  if (!p.success) return undefined;
  for (const a of p.data.actions) {
    const action = Object.hasOwn(SLACK_ACTION_IDS, a.action_id)
      ? SLACK_ACTION_IDS[a.action_id]
      : undefined;
    if (!action || !a.value || !JOB_ID.test(a.value)) continue;
    const { user, channel } = p.data;
    return {
      action,
      jobId: a.value,
      user: { id: user.id, name: user.username ?? user.name ?? user.id },
      ...(channel ? { channel: channel.id } : {}),
    };
  }
  return undefined;
}
