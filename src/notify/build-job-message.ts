import type { Job } from '../model/job.js';
import type { JobStage } from '../model/job-notifier.js';
import { context, slackMessage, type SlackMessage } from './block-kit.js';
import { jobUrl } from './controller-url.js';
import { decidedBy } from './decided-by.js';
import { safeLink } from './job-facts.js';
import { buildApprovalMessage } from './build-approval-message.js';
import { buildOwnerResumedMessage } from './build-owner-resumed-message.js';
import { buildOutcomeMessage } from './build-outcome-message.js';
import { buildProgressMessage } from './build-progress-message.js';
import { buildQueuedMessage } from './build-queued-message.js';
import { buildSlackActionMessage } from './build-slack-action-message.js';
import { buildStartedMessage } from './build-started-message.js';
import { buildVerdictMessage } from './build-verdict-message.js';
import type { MessageContext } from './message-context.js';
import { withCluster } from './with-cluster.js';

/** The Slack message for one stage of a job, saying who decided and linking the job. Pure. */
export function buildJobMessage(job: Job, stage: JobStage, ctx: MessageContext = {}): SlackMessage {
  const message = stageMessage(job, stage, ctx);
  const link = safeLink(jobUrl(job.id, ctx.baseUrl), `Job ${job.id}`);
  return withCluster(
    slackMessage(message.text, [
      ...message.blocks,
      context([`Decided by ${decidedBy(job)}`, link]),
    ]),
    ctx,
  );
}

function stageMessage(job: Job, stage: JobStage, ctx: MessageContext): SlackMessage {
  switch (stage) {
    case 'queued':
      return buildQueuedMessage(job);
    case 'awaiting_approval':
      return buildApprovalMessage(job, ctx);
    case 'started':
      return buildStartedMessage(job);
    case 'progress':
      return buildProgressMessage(job);
    case 'finished':
    case 'failed':
    case 'skipped':
    case 'expired':
      return buildOutcomeMessage(job, stage);
    case 'recovered':
    case 'not_recovered':
      return buildVerdictMessage(job, stage);
    case 'owner_resumed':
      return buildOwnerResumedMessage(job);
    case 'slack_action':
      return buildSlackActionMessage(job);
  }
}
