import type { Job } from '../model/job.js';
import { context, header, section, slackMessage, type SlackMessage } from './block-kit.js';
import { codeSpan } from './escape-mrkdwn.js';
import { esc, jobSummary, targetText } from './job-facts.js';

export interface ReplicaCounts {
  updated: number;
  ready: number;
  desired: number;
}

/** Replica counts from the latest `progress` timeline entry, when the executor reported them. */
export function latestReplicaCounts(job: Job): { counts?: ReplicaCounts; message?: string } {
  const entry = job.timeline.findLast((e) => e.event === 'progress');
  if (!entry) return {};
  const { updated, ready, desired } = entry.data ?? {};
  const counts =
    typeof updated === 'number' && typeof ready === 'number' && typeof desired === 'number'
      ? { updated, ready, desired }
      : undefined;
  return { message: entry.message, ...(counts ? { counts } : {}) };
}

export function buildProgressMessage(job: Job): SlackMessage {
  const { counts, message } = latestReplicaCounts(job);
  const numbers = counts
    ? `${counts.updated}/${counts.desired} updated, ${counts.ready}/${counts.desired} ready`
    : undefined;
  return slackMessage(`Rollback in progress: ${jobSummary(job)}${numbers ? `: ${numbers}` : ''}`, [
    header(':arrows_counterclockwise: Rollback in progress'),
    section(
      `${targetText(job)}` +
        (counts
          ? `\n*Replicas:* ${counts.updated} updated · ${counts.ready} ready · ${counts.desired} desired`
          : '') +
        (message ? `\n_${esc(message, 500)}_` : ''),
    ),
    context([`Job ${codeSpan(job.id)}`]),
  ]);
}
