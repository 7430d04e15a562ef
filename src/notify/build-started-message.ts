import type { Job } from '../model/job.js';
import { header, section, slackMessage, type SlackMessage } from './block-kit.js';
import {
  alertLinks,
  esc,
  imageLines,
  jobContext,
  jobFields,
  jobSummary,
  revisionText,
  summaryBlock,
  targetText,
} from './job-facts.js';

export function buildStartedMessage(job: Job): SlackMessage {
  const revisions = revisionText(job);
  const images = imageLines(job);
  const what = job.script
    ? `Running rollback script ${targetText(job)}.`
    : `Rolling back ${targetText(job)}` +
      (job.fromRevision !== undefined && job.toRevision !== undefined
        ? ` from revision ${job.fromRevision} to revision ${job.toRevision}.`
        : '.');
  return slackMessage(
    `Rollback started: ${jobSummary(job)}${revisions ? `, revision ${revisions}` : ''} ` +
      `(${esc(job.trigger, 100)}, ${esc(job.confidence, 20)})`,
    [
      header(':rewind: Rollback started'),
      section(what),
      jobFields(job, [['Revision', revisions]]),
      images ? section(`*Image changes*\n${images}`) : undefined,
      summaryBlock(job),
      alertLinks(job.alert),
      jobContext(job),
    ],
  );
}
