// "Who or what decided" for every job message: the policy, an operator, or a Slack user (shown
// as a mention, which Slack renders with the person's current name).
import type { Job, SlackAction } from '../model/job.js';
import { esc } from './job-facts.js';

/** Slack user ids as Slack sends them; anything else is shown as text, never as a mention. */
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

export function slackUser(user: SlackAction['user']): string {
  return SLACK_USER_ID.test(user.id) ? `<@${user.id}>` : esc(user.name || user.id, 80);
}

function lastSlack(job: Job, action: SlackAction['action']): SlackAction | undefined {
  return job.slackActions?.findLast((a) => a.action === action);
}

export function decidedBy(job: Job): string {
  const denied = lastSlack(job, 'deny');
  if (job.state === 'skipped' && denied) return `denied by ${slackUser(denied.user)} in Slack`;
  if (job.approval?.approvedAt) {
    const approved = lastSlack(job, 'approve');
    return approved
      ? `approved by ${slackUser(approved.user)} in Slack`
      : `approved by ${esc(job.approval.approvedBy ?? 'an operator', 120)}`;
  }
  if (job.state === 'awaiting_approval')
    return `policy holds it for an operator (${esc(job.confidence, 20)} confidence)`;
  if (job.state === 'expired') return 'policy held it; nobody approved it in time';
  if (job.origin === 'adopted') return 'adopted from the previous leader';
  const why = job.timeline[0]?.message;
  return `policy${why ? `: ${esc(why, 300)}` : ''}`;
}

/** The latest pause or resume pressed on this job's message, when it was a pause. */
export function pausedFromSlack(job: Job): SlackAction | undefined {
  const last = job.slackActions?.findLast((a) => a.action === 'pause' || a.action === 'resume');
  return last?.action === 'pause' ? last : undefined;
}
