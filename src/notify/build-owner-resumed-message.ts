import type { Job } from '../model/job.js';
import { header, section, slackMessage, type SlackMessage } from './block-kit.js';
import { jobContext, jobSummary, targetText } from './job-facts.js';
import { resumedLine } from './owner-lines.js';

/** The controller noticed that a human turned back on the owners a job had suspended. */
export function buildOwnerResumedMessage(job: Job): SlackMessage {
  const all = job.owner?.suspended ?? [];
  const latest = all.reduce((max, o) => (o.resumedAt && o.resumedAt > max ? o.resumedAt : max), '');
  const resumed = all.filter((o) => o.resumedAt === latest);
  const still = all.filter((o) => !o.resumedAt);
  const lines = resumed.map(resumedLine).join(' ');
  return slackMessage(`Owner turned back on: ${jobSummary(job)}: ${lines}`, [
    header(':arrows_counterclockwise: GitOps owner turned back on'),
    section(
      `${lines} It manages ${targetText(job)} again: whatever Git says is applied from now on.` +
        (still.length ? ` Still suspended: ${still.length}.` : ''),
    ),
    jobContext(job),
  ]);
}
