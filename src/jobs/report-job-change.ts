// What a committed change of a job means for Slack and for the metrics, read from the job before
// and after (as argo-rollouts sends events from the old and new status). A step that forgets to
// notify is impossible: entering a state is what notifies.
import type { JobNotifier, JobStage } from '../model/job-notifier.js';
import type { Job } from '../model/job.js';
import { TimelineEvent } from '../model/timeline-event.js';
import type { Metrics } from '../observability/metrics.js';

export interface JobReportSinks {
  notifier: JobNotifier;
  metrics: Metrics;
  channelFor?: (job: Job) => string | undefined;
}

/** The Slack stage for entering a state; adopted jobs were announced by the leader that took them. */
function enteredStage(before: Job | undefined, after: Job): JobStage | undefined {
  if (before?.state === after.state) return undefined;
  switch (after.state) {
    case 'queued':
      return before || after.origin === 'alert' ? 'queued' : undefined;
    case 'awaiting_approval':
      return 'awaiting_approval';
    case 'running':
      return 'started';
    case 'succeeded':
      return 'finished';
    case 'failed':
    case 'skipped':
    case 'expired':
      return after.state;
  }
}

function resumedCount(job: Job): number {
  return job.owner?.suspended?.filter((o) => o.resumedAt).length ?? 0;
}

export function reportJobChange(before: Job | undefined, after: Job, o: JobReportSinks): void {
  const channel = o.channelFor?.(after);
  const notify = (stage: JobStage) => o.notifier.job(after, stage, channel ? { channel } : {});
  const { metrics } = o;

  if (after.actedAt && !before?.actedAt) {
    const seconds = (Date.parse(after.actedAt) - after.alert.receivedAt) / 1000;
    if (seconds >= 0) metrics.alertToAction.observe({ executor: after.executor }, seconds);
  }

  const stage = enteredStage(before, after);
  if (after.outcome && before?.state !== after.state && after.finishedAt) {
    const labels = { trigger: after.trigger, executor: after.executor, outcome: after.outcome };
    const finished = Date.parse(after.finishedAt);
    metrics.jobs.inc(labels);
    if (after.startedAt)
      metrics.jobDuration.observe(
        labels,
        Math.max(0, (finished - Date.parse(after.startedAt)) / 1000),
      );
    if (after.target)
      metrics.lastRollback.set(
        { namespace: after.target.namespace, workload: after.target.name, outcome: after.outcome },
        finished / 1000,
      );
  }
  if (stage) notify(stage);
  else if ((after.slackActions?.length ?? 0) > (before?.slackActions?.length ?? 0))
    notify('slack_action');
  if (after.outcome && before?.state !== after.state && after.owner?.action)
    metrics.ownerActions.inc({ owner: after.owner.owner, action: after.owner.action });
  if (before && resumedCount(after) > resumedCount(before)) notify('owner_resumed');

  const seen = before?.timeline.length ?? after.timeline.length;
  for (const e of after.timeline.slice(seen))
    if (e.event === TimelineEvent.Progress) notify('progress');

  if (after.verdict !== before?.verdict) {
    if (after.verdict === 'recovered') {
      metrics.verdicts.inc({ trigger: after.trigger, verdict: 'recovered' });
      if (after.recoverySeconds !== undefined)
        metrics.recovery.observe({ trigger: after.trigger }, after.recoverySeconds);
      notify('recovered');
    } else if (after.verdict === 'not_recovered') {
      metrics.verdicts.inc({ trigger: after.trigger, verdict: 'not_recovered' });
      notify('not_recovered');
    }
  }
}
