// An operator's approval of a held job: only a job still awaiting approval, only before its
// deadline, and only once the approval is durable (the caller then queues it).
import { ConflictError, NotFoundError, UnavailableError } from '../model/errors.js';
import type { Job, SlackAction } from '../model/job.js';
import { actedInSlack, approve } from './job-transitions.js';
import type { JobStore } from './job-store.js';

export async function approveJob(
  id: string,
  by: string,
  o: {
    store: JobStore;
    now: number;
    expire(id: string): Promise<void>;
    /** Approved from Slack: the user is recorded in the same commit. */
    slackUser?: SlackAction['user'] | undefined;
  },
): Promise<Job> {
  const job = o.store.get(id);
  if (!job) throw new NotFoundError(`job ${id} not found`);
  if (job.state !== 'awaiting_approval')
    throw new ConflictError(`job ${id} is ${job.state}, not awaiting approval`);
  if (job.approval && Date.parse(job.approval.expiresAt) <= o.now) {
    await o.expire(job.id);
    throw new ConflictError(`approval for job ${id} expired at ${job.approval.expiresAt}`);
  }
  try {
    return await o.store.update(id, (j) => {
      const approved = approve(j, by, o.now);
      const user = o.slackUser;
      return user ? actedInSlack(approved, { action: 'approve', user }, o.now) : approved;
    });
  } catch {
    throw new UnavailableError('the approval could not be recorded durably; retry');
  }
}
