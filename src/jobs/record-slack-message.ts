// The app-mode Slack message of a job is state: journaled with the job, so a restarted process
// (or a new leader reading the workload's mark) edits it instead of posting a second one. The
// intent to post is journaled first (`intent`), so a process that dies between Slack's answer
// and this journal write finds the message by its metadata instead of posting it again.
import type { Logger } from 'pino';
import type { SlackMessageRef } from '../model/job.js';
import { postedToSlack, postingToSlack } from './job-transitions.js';
import type { JobStore } from './job-store.js';

export async function recordSlackMessage(
  store: JobStore,
  jobId: string,
  ref: SlackMessageRef | { intent: string; at: number },
  logger: Logger,
): Promise<void> {
  if (!store.get(jobId)) return;
  try {
    await store.update(jobId, (job) =>
      'intent' in ref ? postingToSlack(job, ref.intent, ref.at) : postedToSlack(job, ref),
    );
  } catch (err) {
    logger.warn(
      { jobId, errName: (err as Error)?.name },
      'could not journal the Slack message of a job; a restart would post it again',
    );
  }
}
