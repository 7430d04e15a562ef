import type { Job } from '../model/job.js';
import { header, section, slackMessage, type SlackMessage } from './block-kit.js';
import {
  alertLinks,
  esc,
  formatDuration,
  jobContext,
  jobFields,
  jobSummary,
  targetText,
} from './job-facts.js';

export type VerdictStage = 'recovered' | 'not_recovered';

/** After a succeeded rollback: did the triggering alert resolve within the verification window? */
export function buildVerdictMessage(job: Job, stage: VerdictStage): SlackMessage {
  const alert = `*${esc(job.alert.alertname, 200)}*`;
  if (stage === 'recovered') {
    const after =
      job.recoverySeconds === undefined
        ? ''
        : ` ${seconds(job.recoverySeconds)} after the rollback finished`;
    return slackMessage(`Alert resolved after rollback: ${jobSummary(job)}${after}`, [
      header(':large_green_circle: Alert resolved after rollback'),
      section(`${alert} resolved${after}. The rollback of ${targetText(job)} fixed it.`),
      jobFields(job, [['Verdict', 'recovered']]),
      jobContext(job),
    ]);
  }
  const window = stillFiringFor(job);
  const since = window === undefined ? '' : ` ${formatDuration(window)} after it finished`;
  // `<!here>` is ours, added after escaping: it is the only mention these messages ever make.
  return slackMessage(
    `<!here> Rollback did not clear the alert: ${jobSummary(job)} is still firing${since}`,
    [
      header(':rotating_light: Rollback did not clear the alert'),
      section(
        `<!here> The rollback of ${targetText(job)} finished, but ${alert} is still firing${since}. ` +
          'The deploy may not be the cause: a human needs to look now.',
      ),
      jobFields(job, [['Verdict', 'not recovered']]),
      alertLinks(job.alert),
      jobContext(job),
    ],
  );
}

function seconds(s: number): string {
  const n = Math.round(s);
  return n < 60 ? `${n} s` : `${n} s (${formatDuration(n * 1000)})`;
}

/** From the rollback's finish to the `not_recovered` entry: the verification window in effect. */
function stillFiringFor(job: Job): number | undefined {
  const entry = job.timeline.findLast((e) => e.event === 'not_recovered');
  if (!entry || !job.finishedAt) return undefined;
  const ms = Date.parse(entry.at) - Date.parse(job.finishedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
