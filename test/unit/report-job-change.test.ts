// Slack stages and metrics come from the difference between a job before and after a commit:
// each step of a job's life, taken through the real transitions, announces itself once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as step from '../../src/jobs/job-transitions.js';
import { reportJobChange } from '../../src/jobs/report-job-change.js';
import type { JobStage } from '../../src/model/job-notifier.js';
import type { Job } from '../../src/model/job.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { T0, sampleJob } from './notify-fixtures.js';

function sinks(cluster?: string) {
  const stages: JobStage[] = [];
  const channels: Array<string | undefined> = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const o = {
    metrics,
    ...(cluster ? { cluster } : {}),
    channelFor: () => '#payments',
    notifier: {
      enabled: true,
      job: (_: Job, stage: JobStage, opts?: { channel?: string }) => {
        stages.push(stage);
        channels.push(opts?.channel);
      },
      decision: () => undefined,
      flush: async () => undefined,
    },
  };
  /** Reports before → after, as the store does after each commit; returns `after`. */
  const change = (before: Job | undefined, after: Job) => {
    reportJobChange(before, after, o);
    return after;
  };
  return { stages, channels, metrics, change };
}

/** The sample job's own fields, before its life wrote anything. */
const fresh = (): step.JobFields => {
  const { id, targetKey, executor, target, rule, trigger, confidence, alert } = sampleJob();
  return {
    id,
    targetKey,
    executor,
    rule,
    trigger,
    confidence,
    alert,
    ...(target ? { target } : {}),
  };
};

describe('reportJobChange', () => {
  test('a whole life: queued, started, progress, finished, recovered, each once', async () => {
    const t = sinks();
    const queued = t.change(undefined, step.open(fresh(), { at: T0, reason: 'high' }));
    const running = t.change(queued, step.start(queued, T0 + 1000));
    const progressed = t.change(
      running,
      step.noted(running, { event: 'progress', message: '1/2 updated' }, T0 + 2000),
    );
    const acted = t.change(
      progressed,
      step.recorded(progressed, { actedAt: new Date(T0 + 1500).toISOString(), patched: true }),
    );
    const done = t.change(
      acted,
      step.finish(acted, { outcome: 'succeeded', reason: 'ok' }, T0 + 5000),
    );
    t.change(done, step.noted(done, { event: 'slack', message: 'posted' }, T0 + 5001));
    t.change(done, step.recovered(done, 30, T0 + 35_000));
    assert.deepEqual(t.stages, ['queued', 'started', 'progress', 'finished', 'recovered']);
    assert.deepEqual(new Set(t.channels), new Set(['#payments']));
    const jobs = await t.metrics.jobs.get();
    assert.deepEqual(
      jobs.values.map((v) => [v.labels.outcome, v.value]),
      [['succeeded', 1]],
    );
    const duration = await t.metrics.jobDuration.get();
    assert.equal(duration.values.find((v) => v.metricName?.endsWith('_sum'))?.value, 4);
    const toAction = await t.metrics.alertToAction.get();
    assert.equal(toAction.values.find((v) => v.metricName?.endsWith('_sum'))?.value, 1.5);
    const verdicts = await t.metrics.verdicts.get();
    assert.deepEqual(
      verdicts.values.map((v) => [v.labels.verdict, v.value]),
      [['recovered', 1]],
    );
  });

  test('time to restore: alert start → patched, → ready, → resolved, each observed once', async () => {
    const t = sinks('us-1');
    const queued = t.change(undefined, step.open(fresh(), { at: T0, reason: 'high' }));
    const running = t.change(queued, step.start(queued, T0 + 1000));
    const acted = t.change(
      running,
      step.recorded(running, { actedAt: new Date(T0 + 1500).toISOString(), patched: true }),
    );
    t.change(acted, step.noted(acted, { event: 'note', message: 'again' }, T0 + 1600));
    const done = t.change(
      acted,
      step.finish(acted, { outcome: 'succeeded', reason: 'ok' }, T0 + 5000),
    );
    t.change(done, step.recovered(done, 30, T0 + 35_000));
    const restore = await t.metrics.timeToRestore.get();
    const sums = restore.values
      .filter((v) => v.metricName?.endsWith('_sum'))
      .map((v) => [v.labels.cluster, v.labels.kind, v.labels.stage, v.value]);
    // The sample alert started a minute before T0.
    assert.deepEqual(sums, [
      ['us-1', 'Deployment', 'patched', 61.5],
      ['us-1', 'Deployment', 'ready', 65],
      ['us-1', 'Deployment', 'resolved', 95],
    ]);
    const counts = restore.values.filter((v) => v.metricName?.endsWith('_count'));
    assert.ok(counts.every((v) => v.value === 1));
    // The dashboard's table row: one series for the workload, its verdict updated in place.
    const rows = (await t.metrics.lastRollbackInfo.get()).values;
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.labels.verdict, 'recovered');
    assert.equal(rows[0]?.value, (T0 + 5000) / 1000);
    const restoreRow = (await t.metrics.lastTimeToRestore.get()).values;
    assert.deepEqual(
      restoreRow.map((v) => v.value),
      [95],
    );
  });

  test('a failed job is never ready nor resolved: only its patch is timed', async () => {
    const t = sinks();
    const running = step.start(step.open(fresh(), { at: T0, reason: 'high' }), T0);
    const acted = t.change(
      running,
      step.recorded(running, { actedAt: new Date(T0 + 1000).toISOString(), patched: true }),
    );
    t.change(acted, step.finish(acted, { outcome: 'failed', reason: 'deadline' }, T0 + 9000));
    const stages = (await t.metrics.timeToRestore.get()).values
      .filter((v) => v.metricName?.endsWith('_count'))
      .map((v) => `${v.labels.cluster}/${v.labels.stage}`);
    assert.deepEqual(stages, ['unnamed/patched']);
  });

  test('a job re-checked after a restart or a leader change is not announced as started again', () => {
    const t = sinks();
    const running = step.start(step.open(fresh(), { at: T0, reason: 'high' }), T0);
    t.change(running, step.recover(running, T0 + 1000));
    t.change(running, step.handBack(running, 'leadership', T0 + 1000));
    assert.deepEqual(t.stages, []);
  });

  test('an adopted job is not announced as queued (its first leader did); it is when it starts', () => {
    const t = sinks();
    const adopted = step.adopt(fresh(), {
      createdAt: new Date(T0).toISOString(),
      acceptedBy: 'a',
      by: 'b',
      at: T0,
    });
    t.change(undefined, adopted);
    t.change(adopted, step.start(adopted, T0 + 1000));
    assert.deepEqual(t.stages, ['started']);
  });

  test('held, then approved or expired; a success after the alert resolved is recovered at once', () => {
    const t = sinks();
    const held = t.change(
      undefined,
      step.open(fresh(), { at: T0, reason: 'medium', approvalExpiresAt: T0 + 60_000 }),
    );
    t.change(held, step.approve(held, 'alice', T0 + 1000));
    t.change(held, step.expire(held, T0 + 60_000));
    const running = step.start(step.approve(held, 'alice', T0 + 1000), T0 + 2000);
    const resolved = step.alertResolved(running, T0 + 3000);
    t.change(running, resolved);
    t.change(resolved, step.finish(resolved, { outcome: 'succeeded', reason: 'ok' }, T0 + 4000));
    assert.deepEqual(t.stages, ['awaiting_approval', 'queued', 'expired', 'finished', 'recovered']);
  });

  test('owners: the action is counted once when the job finishes; a human resuming one is announced', async () => {
    const t = sinks();
    const queued = t.change(undefined, step.open(fresh(), { at: T0, reason: 'high' }));
    const running = t.change(queued, step.start(queued, T0 + 1000));
    const suspended = {
      owner: 'argocd' as const,
      object: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        namespace: 'argocd',
        name: 'api',
      },
      role: 'owner' as const,
      change: 'removed spec.syncPolicy.automated (automated sync off)',
      resumeCommand: "kubectl -n argocd patch applications.argoproj.io api --type merge -p '{}'",
      suspendedAt: new Date(T0 + 1500).toISOString(),
    };
    const owner = {
      owner: 'argocd' as const,
      action: 'suspended' as const,
      reason: 'r',
      suspended: [suspended],
    };
    const recorded = t.change(running, step.recorded(running, { owner }));
    const done = t.change(
      recorded,
      step.finish(recorded, { outcome: 'succeeded', reason: 'ok', fields: { owner } }, T0 + 3000),
    );
    const count = async () =>
      (await t.metrics.ownerActions.get()).values.find((v) => v.labels.owner === 'argocd')?.value;
    assert.equal(await count(), 1);
    t.change(done, step.ownerResumed(done, 'argoproj.io/Application/argocd/api', T0 + 9000));
    assert.equal(await count(), 1);
    assert.deepEqual(t.stages, ['queued', 'started', 'finished', 'owner_resumed']);
  });
});
