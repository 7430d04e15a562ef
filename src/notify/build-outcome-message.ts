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
      const rollout = rolloutFinished(job, duration);
      if (rollout)
        return slackMessage(rollout.text, [
          header(rollout.header),
          section(`${rollout.body} Watching for *${esc(job.alert.alertname, 200)}* to resolve.`),
          facts(outcome),
          ...tail,
        ]);
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

/**
 * An Argo Rollouts Rollout ends one of two ways, and the message says which: an abort hands
 * traffic back to the stable ReplicaSet and leaves the template naming the bad revision (a human
 * still has to revert it at its source); an undo puts the previous template back.
 */
function rolloutFinished(
  job: Job,
  duration: string | undefined,
): { text: string; header: string; body: string } | undefined {
  const argo = job.target?.kind === 'Rollout' ? job.rollout?.argo : undefined;
  if (!argo) return undefined;
  const took = duration ? ` in ${duration}` : '';
  const after = duration ? ` after ${duration}` : '';
  const to = job.toRevision === undefined ? '' : ` revision ${job.toRevision}`;
  if (argo.action === 'abort') {
    const bad =
      job.fromRevision === undefined ? 'the bad revision' : `revision ${job.fromRevision}`;
    return {
      text: `Rollout aborted: traffic back on stable${to}: ${jobSummary(job)}${took}`,
      header: ':leftwards_arrow_with_hook: Rollout aborted',
      body:
        `The update of ${targetText(job)} to ${bad} was aborted: traffic and replicas are back on the stable${to}${after}. ` +
        `Its template still names ${bad} (the Rollout stays Degraded): revert or fix it at its source.`,
    };
  }
  const promoted =
    argo.fastTrack === 'rollbackWindow'
      ? 'spec.rollbackWindow let it skip the steps and analysis'
      : 'promoted fully, so no step or analysis ran again';
  return {
    text: `Rolled back to${to || ' the previous revision'}: ${jobSummary(job)}${took}`,
    header: ':white_check_mark: Rolled back',
    body: `${targetText(job)} is back on${to || ' the previous revision'}${after}: its template was undone and ${promoted}.`,
  };
}
