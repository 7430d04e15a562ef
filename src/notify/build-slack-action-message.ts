import type { Job } from '../model/job.js';
import { header, section, slackMessage, type SlackMessage } from './block-kit.js';
import { slackUser } from './decided-by.js';
import { jobSummary } from './job-facts.js';

const VERB = { approve: 'approved', deny: 'denied', pause: 'paused', resume: 'resumed' } as const;

/** What the latest Slack action on the job's message did (a line in its thread). */
export function buildSlackActionMessage(job: Job): SlackMessage {
  const last = job.slackActions?.at(-1);
  const text = !last
    ? `Slack action on ${jobSummary(job)}`
    : last.action === 'pause' || last.action === 'resume'
      ? `Automatic rollbacks ${VERB[last.action]} by ${slackUser(last.user)} from this message`
      : `Rollback ${VERB[last.action]} by ${slackUser(last.user)}`;
  return slackMessage(text, [header(':bust_in_silhouette: Action from Slack'), section(text)]);
}
