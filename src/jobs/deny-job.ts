// An operator's refusal of a held job from Slack: only a job still awaiting approval; it ends
// skipped (nothing changed) and records who refused it.
import { ConflictError, NotFoundError } from '../model/errors.js';
import type { Job, SlackAction } from '../model/job.js';
import { actedInSlack, deny } from './job-transitions.js';
import type { JobStore } from './job-store.js';

export async function denyJob(
  id: string,
  by: string,
  o: { store: JobStore; now: number; slackUser: SlackAction['user'] },
): Promise<Job> {
  const job = o.store.get(id);
  if (!job) throw new NotFoundError(`job ${id} not found`);
  if (job.state !== 'awaiting_approval')
    throw new ConflictError(`job ${id} is ${job.state}, not awaiting approval`);
  return o.store.update(id, (j) =>
    actedInSlack(deny(j, by, o.now), { action: 'deny', user: o.slackUser }, o.now),
  );
}
