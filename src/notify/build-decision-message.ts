import type { DecisionNotice } from '../model/job-notifier.js';
import { context, fields, header, section, slackMessage, type SlackMessage } from './block-kit.js';
import { alertLinks, esc, labelsText, workloadText } from './job-facts.js';
import type { MessageContext } from './message-context.js';
import { withCluster } from './with-cluster.js';

const WORDING: Record<string, { title: string; meaning: string }> = {
  cooldown: {
    title: ':snowflake: Rollback suppressed: cooldown',
    meaning: 'This target was rolled back recently, so this alert did not start another rollback.',
  },
  circuit_open: {
    title: ':no_entry: Automatic rollbacks halted: circuit breaker open',
    meaning:
      'Too many rollbacks happened in a short window. Nothing is rolled back automatically until an operator resumes (`POST /api/admin/rollback/resume`).',
  },
  paused: {
    title: ':double_vertical_bar: Automatic rollbacks are paused',
    meaning: 'An operator paused automatic rollbacks, so nothing was done for this alert.',
  },
  notify_only: {
    title: ':information_source: Alert noted, no automatic rollback',
    meaning:
      'This alert maps to a rollback, but its rule only notifies (confidence below the threshold or `autoRollback: false`).',
  },
};

export function buildDecisionMessage(
  notice: DecisionNotice,
  ctx: MessageContext = {},
): SlackMessage {
  const wording = WORDING[notice.decision] ?? {
    title: ':information_source: Rollback decision',
    meaning: `Decision: ${esc(notice.decision, 40)}.`,
  };
  const target = notice.target ? workloadText(notice.target) : undefined;
  const alert = esc(notice.alertname, 200);
  const message = slackMessage(
    `${wording.title.replace(/^:[a-z_]+: /, '')}: ${alert}${target ? ` → ${target}` : ''}: ${esc(notice.reason, 500)}`,
    [
      header(wording.title),
      section(`${wording.meaning}\n*Reason:* ${esc(notice.reason, 1500)}`),
      fields([
        ['Alert', alert],
        ['Decision', esc(notice.decision, 40)],
        ['Trigger', notice.trigger === undefined ? undefined : esc(notice.trigger, 100)],
        ['Confidence', notice.confidence === undefined ? undefined : esc(notice.confidence, 20)],
        ['Target', target],
      ]),
      alertLinks(notice.generatorURL === undefined ? {} : { generatorURL: notice.generatorURL }),
      context([labelsText(notice.labels)]),
    ],
  );
  return withCluster(message, ctx);
}
