import type { JobStage } from '../model/job-notifier.js';
import type { Job } from '../model/job.js';
import { latestReplicaCounts } from './build-progress-message.js';

/** Stages after which the job may still report progress. */
export const ACTIVE_STAGES: ReadonlySet<JobStage> = new Set([
  'queued',
  'awaiting_approval',
  'started',
  'owner_resumed',
]);

/** The replica numbers of the latest progress report, as a key: unchanged numbers say nothing new. */
export function progressNumbers(job: Job): string | undefined {
  const { counts, message } = latestReplicaCounts(job);
  return counts ? `${counts.updated}/${counts.ready}/${counts.desired}` : message;
}
