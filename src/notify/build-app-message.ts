// App mode: the one message that shows a job, rendered from the job as it is now (a projection:
// the same job always renders the same message, so an edit after a restart or a failover is the
// edit the old process would have made). Buttons follow the state: Approve and Deny while held,
// Pause (or Resume, after a Pause from this message) while the job can still act, none once it
// has ended.
import type { JobStage } from '../model/job-notifier.js';
import type { Job } from '../model/job.js';
import { actions, button, context, section, slackMessage, type SlackMessage } from './block-kit.js';
import { buildJobMessage } from './build-job-message.js';
import { latestReplicaCounts } from './build-progress-message.js';
import { pausedFromSlack, slackUser } from './decided-by.js';
import type { MessageContext } from './message-context.js';

/** The action ids Slack sends back; the button's `value` is the job id. */
export const SlackActionIds = {
  Approve: 'rollback_approve',
  Deny: 'rollback_deny',
  Pause: 'rollback_pause',
  Resume: 'rollback_resume',
} as const;
export type SlackActionId = (typeof SlackActionIds)[keyof typeof SlackActionIds];

/** The stage a job's message shows: the state, then the verdict once there is one. */
export function appStage(job: Job): JobStage {
  switch (job.state) {
    case 'awaiting_approval':
    case 'queued':
    case 'skipped':
    case 'failed':
    case 'expired':
      return job.state;
    case 'running':
      return 'started';
    case 'succeeded':
      return job.verdict === 'recovered' || job.verdict === 'not_recovered'
        ? job.verdict
        : 'finished';
  }
}

function buttons(job: Job) {
  const id = job.id;
  const pause = pausedFromSlack(job)
    ? button(SlackActionIds.Resume, 'Resume automatic rollbacks', id, {
        confirm: 'Queued rollbacks start again and new alerts act on their own.',
      })
    : button(SlackActionIds.Pause, 'Pause automatic rollbacks', id, {
        confirm:
          'No automatic rollback starts anywhere until someone resumes; a running one finishes.',
      });
  switch (job.state) {
    case 'awaiting_approval':
      return [
        button(SlackActionIds.Approve, 'Approve rollback', id, {
          style: 'primary',
          confirm: 'The workload is rolled back to the pinned revision.',
        }),
        button(SlackActionIds.Deny, 'Deny', id, { style: 'danger' }),
        pause,
      ];
    case 'queued':
    case 'running':
      return [pause];
    default:
      return [];
  }
}

export function buildAppMessage(job: Job, ctx: MessageContext = {}): SlackMessage {
  const base = buildJobMessage(job, appStage(job), ctx);
  const { counts } = job.state === 'running' ? latestReplicaCounts(job) : {};
  const progress = counts
    ? `*Replicas:* ${counts.updated}/${counts.desired} updated · ${counts.ready}/${counts.desired} ready`
    : undefined;
  const paused = pausedFromSlack(job);
  return slackMessage(base.text, [
    ...base.blocks,
    progress ? section(progress) : undefined,
    paused
      ? context([`:double_vertical_bar: Automatic rollbacks paused by ${slackUser(paused.user)}`])
      : undefined,
    actions(`rollback_job`, buttons(job)),
  ]);
}
