import type { Job } from '../model/job.js';
import { approveCommand } from './approve-command.js';
import { header, section, slackMessage, type SlackMessage } from './block-kit.js';
import { escapeMrkdwn } from './escape-mrkdwn.js';
import {
  alertLinks,
  esc,
  jobContext,
  jobFields,
  jobSummary,
  slackDate,
  summaryBlock,
  targetText,
} from './job-facts.js';
import type { MessageContext } from './message-context.js';

export function buildApprovalMessage(job: Job, ctx: MessageContext): SlackMessage {
  const expiresAt = job.approval?.expiresAt;
  const expiry = expiresAt ? ` before ${slackDate(expiresAt)}` : '';
  const command = approveCommand(job.id, ctx.baseUrl);
  return slackMessage(
    `Rollback awaiting approval: ${jobSummary(job)} (${esc(job.confidence, 20)} confidence)` +
      (expiresAt ? `, expires ${esc(expiresAt, 40)}` : ''),
    [
      header(':raised_hand: Rollback awaiting approval'),
      section(
        `Policy holds this rollback of ${targetText(job)} for an operator. ` +
          `Approve it${expiry}, or it expires and nothing changes:`,
      ),
      section(`\`\`\`${escapeMrkdwn(command)}\`\`\``),
      jobFields(job, [['Expires', expiresAt ? slackDate(expiresAt) : undefined]]),
      summaryBlock(job),
      alertLinks(job.alert),
      jobContext(job),
    ],
  );
}
