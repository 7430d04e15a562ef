import type { Job } from '../model/job.js';
import type { JobStage } from '../model/job-notifier.js';
import type { SlackMessage } from './block-kit.js';
import { buildApprovalMessage } from './build-approval-message.js';
import { buildOwnerResumedMessage } from './build-owner-resumed-message.js';
import { buildOutcomeMessage } from './build-outcome-message.js';
import { buildProgressMessage } from './build-progress-message.js';
import { buildQueuedMessage } from './build-queued-message.js';
import { buildStartedMessage } from './build-started-message.js';
import { buildVerdictMessage } from './build-verdict-message.js';
import type { MessageContext } from './message-context.js';
import { withCluster } from './with-cluster.js';

/** The Slack message for one stage of a job. Pure. */
export function buildJobMessage(job: Job, stage: JobStage, ctx: MessageContext = {}): SlackMessage {
  return withCluster(stageMessage(job, stage, ctx), ctx);
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
  }
}
