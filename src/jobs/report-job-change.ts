// What a committed change of a job means for Slack and for the metrics, read from the job before
// and after (as argo-rollouts sends events from the old and new status). A step that forgets to
// notify is impossible: entering a state is what notifies.
import type { JobNotifier, JobStage } from '../model/job-notifier.js';
import type { Job } from '../model/job.js';
import { TimelineEvent } from '../model/timeline-event.js';
import type { Metrics } from '../observability/metrics.js';
import { recordLastRollbackRow } from '../observability/last-rollback-row.js';

export interface JobReportSinks {
  notifier: JobNotifier;
  metrics: Metrics;
  channelFor?: (job: Job) => string | undefined;
  /** The `cluster` label of rollback_time_to_restore_seconds (the configured name). */
  cluster?: string;
}

/** The kind a job rolled back (`Deployment`, `Rollout`...) or `script`: a bounded label. */
function kindOf(job: Job): string {
  return job.target?.kind ?? 'script';
}

/**
 * Time to restore (rollback_time_to_restore_seconds): from the alert's `startsAt` to the patch
 * (or script start), to the workload Ready (the job succeeded), and to the alert resolved. Each
 * stage is observed once, when the job first reaches it.
 */
function observeTimeToRestore(before: Job | undefined, after: Job, o: JobReportSinks): void {
  const start = Date.parse(after.alert.startsAt);
  if (!Number.isFinite(start)) return;
  const labels = { cluster: o.cluster ?? 'unnamed', kind: kindOf(after) };
  const observe = (stage: 'patched' | 'ready' | 'resolved', at: number) => {
    if (Number.isFinite(at) && at >= start)
      o.metrics.timeToRestore.observe({ ...labels, stage }, (at - start) / 1000);
  };
  if (after.actedAt && !before?.actedAt) observe('patched', Date.parse(after.actedAt));
  if (after.state === 'succeeded' && before?.state !== 'succeeded' && after.finishedAt)
    observe('ready', Date.parse(after.finishedAt));
  if (after.verdict === 'recovered' && before?.verdict !== 'recovered' && after.finishedAt) {
    const resolvedAt = after.alertResolvedAt
      ? Date.parse(after.alertResolvedAt)
      : Date.parse(after.finishedAt) + (after.recoverySeconds ?? 0) * 1000;
    observe('resolved', resolvedAt);
  }
}

/** The Slack stage for entering a state; adopted jobs were announced by the leader that took them. */
function enteredStage(before: Job | undefined, after: Job): JobStage | undefined {
  if (before?.state === after.state) return undefined;
  switch (after.state) {
    case 'queued':
      return before || after.origin === 'alert' ? 'queued' : undefined;
    case 'awaiting_approval':
      return before || after.origin === 'alert' ? 'awaiting_approval' : undefined;
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

  observeTimeToRestore(before, after, o);
  if (
    after.outcome &&
    (before?.state !== after.state || before.verdict !== after.verdict) &&
    after.finishedAt
  )
    recordLastRollbackRow(metrics, after);
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
  // A job that starts at once is recorded started in its decision's batch: it was queued too.
  if (!before && stage === 'started' && after.origin === 'alert') notify('queued');
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
