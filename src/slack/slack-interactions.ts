// A button click is an input like an HTTP call: it arrives authenticated (a verified signature,
// or the app's own Socket Mode connection), is authorized here (config `slack.approvers` for
// approve, deny and resume; pause is the safe direction and open to the channel), and is applied
// through the controller's own transitions, so a second click, on this replica or another one,
// finds the job decided and is answered with its state instead of acting twice. Answers that
// only the clicking user should see (refusals, stale clicks) are ephemeral; the job's message
// itself changes through its projection when the job does.
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { RollbackController } from '../controller.js';
import { actedInSlack } from '../jobs/job-transitions.js';
import { ConflictError, NotFoundError, UnavailableError } from '../model/errors.js';
import type { Job } from '../model/job.js';
import { callSlackApi } from '../notify/call-slack-api.js';
import { decidedBy } from '../notify/decided-by.js';
import { parseSlackAction, type ParsedSlackAction } from './parse-slack-action.js';

export type SlackControl = Pick<
  RollbackController,
  'getJob' | 'approve' | 'deny' | 'setPaused' | 'state' | 'store'
>;

export interface SlackInteractionsOptions {
  controller: SlackControl;
  /** Slack user ids (U…, W…) and user-group ids (S…). */
  approvers: readonly string[];
  client: WebClient;
  /** Where refusals go when the click carries no channel. */
  channel: string;
  logger: Logger;
  now?: () => number;
  /** How long a user group's members are trusted before asking Slack again. */
  groupTtlMs?: number;
}

/** What the click did, for logs and tests: bounded values only. */
export type ClickOutcome =
  'ignored' | 'approved' | 'denied' | 'paused' | 'resumed' | 'refused' | 'stale' | 'unavailable';

const NEEDS_APPROVER: ReadonlySet<ParsedSlackAction['action']> = new Set([
  'approve',
  'deny',
  'resume',
]);

export class SlackInteractions {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly groups = new Map<string, { users: Set<string>; at: number }>();

  constructor(private readonly o: SlackInteractionsOptions) {
    this.log = o.logger.child({ component: 'slack-interactions' });
    this.now = o.now ?? Date.now;
  }

  /** Never throws: a click that cannot be served is answered to the user and logged. */
  async handle(payload: unknown): Promise<ClickOutcome> {
    const click = parseSlackAction(payload);
    if (!click) return 'ignored';
    const fields = { jobId: click.jobId, action: click.action, slackUser: click.user.id };
    try {
      const outcome = await this.act(click);
      this.log.info({ ...fields, outcome }, 'slack button');
      return outcome;
    } catch (err) {
      this.log.warn({ ...fields, errName: (err as Error)?.name }, 'slack button not applied');
      await this.tell(click, 'That could not be applied just now; please click again.');
      return 'unavailable';
    }
  }

  private async act(click: ParsedSlackAction): Promise<ClickOutcome> {
    const job = this.o.controller.getJob(click.jobId);
    if (!job) {
      await this.tell(click, `Job ${click.jobId} is not known to this controller.`);
      return 'stale';
    }
    if (NEEDS_APPROVER.has(click.action) && !(await this.isApprover(click.user.id))) {
      this.log.warn(
        { jobId: job.id, action: click.action, slackUser: click.user.id },
        'slack button refused: not an approver',
      );
      await this.tell(
        click,
        `You may not ${click.action} rollbacks from Slack. An admin can add your Slack user id ` +
          `(${click.user.id}) or a user group you are in to \`slack.approvers\`.`,
      );
      return 'refused';
    }
    const by = `slack:${click.user.name} (${click.user.id})`;
    const c = this.o.controller;
    try {
      switch (click.action) {
        case 'approve':
          if (job.state !== 'awaiting_approval') return await this.stale(click, job);
          await c.approve(job.id, by, click.user);
          return 'approved';
        case 'deny':
          if (job.state !== 'awaiting_approval') return await this.stale(click, job);
          await c.deny(job.id, by, click.user);
          return 'denied';
        case 'pause':
        case 'resume': {
          const pausing = click.action === 'pause';
          if (c.state.paused === pausing) {
            await this.tell(
              click,
              `Automatic rollbacks are already ${pausing ? 'paused' : 'running'}.`,
            );
            return 'stale';
          }
          await c.setPaused(pausing, by, pausing ? `from Slack, on job ${job.id}` : undefined);
          const at = this.now();
          await c.store.update(job.id, (j) =>
            actedInSlack(j, { action: click.action, user: click.user }, at),
          );
          return pausing ? 'paused' : 'resumed';
        }
      }
    } catch (err) {
      // Decided meanwhile (another click, another replica, the expiry timer): say what it is.
      if (err instanceof ConflictError || err instanceof NotFoundError) {
        const now = c.getJob(job.id);
        return now ? this.stale(click, now) : 'stale';
      }
      if (err instanceof UnavailableError) {
        await this.tell(click, `Not applied: ${err.message}. Please click again.`);
        return 'unavailable';
      }
      throw err;
    }
  }

  private async stale(click: ParsedSlackAction, job: Job): Promise<ClickOutcome> {
    const state = job.state.replace(/_/g, ' ');
    await this.tell(click, `Nothing done: job ${job.id} is already ${state} (${decidedBy(job)}).`);
    return 'stale';
  }

  private async isApprover(userId: string): Promise<boolean> {
    if (this.o.approvers.includes(userId)) return true;
    for (const group of this.o.approvers.filter((a) => a.startsWith('S'))) {
      const members = await this.members(group);
      if (members?.has(userId)) return true;
    }
    return false;
  }

  private async members(group: string): Promise<Set<string> | undefined> {
    const cached = this.groups.get(group);
    if (cached && this.now() - cached.at < (this.o.groupTtlMs ?? 60_000)) return cached.users;
    const r = await callSlackApi(this.o.client, 'usergroups.users.list', { usergroup: group });
    if (!r.ok) {
      this.log.warn({ group, errorCode: r.errorCode }, 'could not read a Slack user group');
      return cached?.users;
    }
    const listed = (r.data as { users?: unknown }).users;
    const users = new Set(Array.isArray(listed) ? listed.filter((u) => typeof u === 'string') : []);
    this.groups.set(group, { users, at: this.now() });
    return users;
  }

  /** An answer only the clicking user sees. */
  private async tell(click: ParsedSlackAction, text: string): Promise<void> {
    const r = await callSlackApi(this.o.client, 'chat.postEphemeral', {
      channel: click.channel ?? this.o.channel,
      user: click.user.id,
      text,
    });
    if (!r.ok) this.log.warn({ errorCode: r.errorCode }, 'could not answer a slack click');
  }
}
