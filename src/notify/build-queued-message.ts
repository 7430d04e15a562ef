import type { Job } from '../model/job.js';
import { header, section, slackMessage, type SlackMessage } from './block-kit.js';
import {
  alertLinks,
  esc,
  jobContext,
  jobFields,
  jobSummary,
  summaryBlock,
  targetText,
} from './job-facts.js';

export function buildQueuedMessage(job: Job): SlackMessage {
  const why = job.timeline[0]?.message;
  return slackMessage(
    `Rollback queued: ${jobSummary(job)} (${esc(job.trigger, 100)}, ${esc(job.confidence, 20)})`,
    [
      header(':hourglass_flowing_sand: Rollback queued'),
      section(
        `A rollback of ${targetText(job)} is queued; it starts as soon as no other job runs for this target.` +
          (why ? `\n_${esc(why, 500)}_` : ''),
      ),
      jobFields(job),
      summaryBlock(job),
      alertLinks(job.alert),
      jobContext(job),
    ],
  );
}
