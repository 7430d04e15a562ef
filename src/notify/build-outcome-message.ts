import type { Job } from '../model/job.js';
import { header, section, slackMessage, type SlackBlock, type SlackMessage } from './block-kit.js';
import {
  alertLinks,
  esc,
  formatDuration,
  jobContext,
  jobDurationMs,
  jobFields,
  jobSummary,
  revisionText,
  slackDate,
  targetText,
} from './job-facts.js';
import { ownerBlock } from './owner-lines.js';

export type OutcomeStage = 'finished' | 'failed' | 'skipped' | 'expired';

/** The end of a job: succeeded (`finished`), failed, skipped, or never approved (`expired`). */
export function buildOutcomeMessage(job: Job, stage: OutcomeStage): SlackMessage {
  const ms = jobDurationMs(job);
  const duration = ms === undefined ? undefined : formatDuration(ms);
  const reason = job.reason ? esc(job.reason, 1500) : 'no reason was recorded';
  const revisions = revisionText(job);
  const facts = (outcome: string): SlackBlock | undefined =>
    jobFields(job, [
      ['Outcome', outcome],
      ['Duration', duration],
      ['Revision', revisions],
    ]);
  const tail = [ownerBlock(job), alertLinks(job.alert), jobContext(job)];

  switch (stage) {
    case 'finished': {
      const outcome = job.outcome ?? 'succeeded';
      const back = job.toRevision === undefined ? '' : ` is back on revision ${job.toRevision}`;
      return slackMessage(
        `Rollback ${outcome}: ${jobSummary(job)}${duration ? ` in ${duration}` : ''}`,
        [
          header(':white_check_mark: Rollback succeeded'),
          section(
            `${targetText(job)}${back}${duration ? ` after ${duration}` : ''}. ` +
              `Watching for *${esc(job.alert.alertname, 200)}* to resolve.`,
          ),
          facts(outcome),
          ...tail,
        ],
      );
    }
    case 'failed':
      return slackMessage(`Rollback failed: ${jobSummary(job)}: ${reason}`, [
        header(':x: Rollback failed'),
        section(`The rollback of ${targetText(job)} failed.\n*Reason:* ${reason}`),
        facts('failed'),
        ...tail,
      ]);
    case 'skipped':
      return slackMessage(`Rollback skipped: ${jobSummary(job)}: ${reason}`, [
        header(':fast_forward: Rollback skipped'),
        section(`Nothing was changed on ${targetText(job)}.\n*Reason:* ${reason}`),
        facts('skipped'),
        ...tail,
      ]);
    case 'expired': {
      const expiresAt = job.approval?.expiresAt;
      return slackMessage(`Rollback approval expired: ${jobSummary(job)}; nothing was changed`, [
        header(':alarm_clock: Rollback approval expired'),
        section(
          `No operator approved the rollback of ${targetText(job)}` +
            `${expiresAt ? ` before ${slackDate(expiresAt)}` : ' in time'}; nothing was changed. ` +
            'If the alert is still firing and a rollback is wanted, it has to be triggered again.',
        ),
        jobFields(job, [['Outcome', 'expired']]),
        ...tail,
      ]);
    }
  }
}
