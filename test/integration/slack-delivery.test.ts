// Real @slack/webhook client → local sink: what each stage posts, where it goes, and that the
// webhook URL (a secret) shows up nowhere but in the request itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobStage } from '../../src/model/job-notifier.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { iso, sampleJob } from '../unit/notify-fixtures.js';
import { headerOf, makeNotifier, notificationCounts } from './slack-harness.js';

describe('Slack delivery', () => {
  let sink: SlackSink;
  before(async () => {
    sink = await startSlackSink();
  });
  after(async () => {
    await sink.close();
  });

  test('every stage of a job reaches Slack in order with its content; the URL never leaks', async () => {
    sink.messages.length = 0;
    sink.attempts.length = 0;
    // The first post fails, so failure logging is exercised too.
    sink.respondWith((req) => (req.n === 1 ? { status: 500, body: 'oops' } : undefined));
    const { notifier, metrics, logs, sent } = makeNotifier({
      webhookUrl: sink.url,
      channel: '#deploys',
      username: 'Rollback Controller',
      iconEmoji: ':rewind:',
      baseUrl: 'https://rollback.example.com',
      progressIntervalMs: 0,
    });
    assert.equal(notifier.enabled, true);

    const job = sampleJob({ approval: { expiresAt: iso(3_600_000) } });
    job.timeline.push({
      at: iso(2000),
      event: 'progress',
      message: 'rolling',
      data: { updated: 2, ready: 1, desired: 3 },
    });
    const done = {
      ...job,
      state: 'succeeded' as const,
      outcome: 'succeeded' as const,
      finishedAt: iso(91_000),
      recoverySeconds: 42,
    };
    // Another job asks for approval: a held job posts four messages in all, so its own life
    // would have no progress post (slack-throttle.test.ts).
    const held = { ...job, id: 'job-held' };
    const stages: Array<[JobStage, typeof job]> = [
      ['awaiting_approval', held],
      ['queued', job],
      ['started', job],
      ['progress', job],
      ['finished', done],
      ['recovered', done],
      [
        'failed',
        { ...job, outcome: 'failed', reason: 'ProgressDeadlineExceeded', finishedAt: iso(601_000) },
      ],
      ['skipped', { ...job, outcome: 'skipped', reason: 'the Deployment is paused' }],
      ['expired', job],
      ['not_recovered', done],
    ];
    for (const [stage, j] of stages) notifier.job(j, stage);
    notifier.decision({
      alertname: 'CriticalP95Latency',
      decision: 'cooldown',
      reason: 'rolled back 4 minutes ago; cooldown 30m',
      trigger: 'latency_degradation',
      confidence: 'high',
      target: { kind: 'Deployment', namespace: 'payments', name: 'api' },
      labels: { alertname: 'CriticalP95Latency' },
    });
    await sink.waitFor(10);
    // The sink records a post before the client has read the answer.
    await notifier.flush(2000);

    const bodies = sink.messages.map((m) => m.body);
    assert.deepEqual(bodies.map(headerOf), [
      ':raised_hand: Rollback awaiting approval',
      // queued folds into started (the job started before the queued post went out)
      ':rewind: Rollback started',
      ':arrows_counterclockwise: Rollback in progress',
      ':white_check_mark: Rollback succeeded',
      ':large_green_circle: Alert resolved after rollback',
      ':x: Rollback failed',
      ':fast_forward: Rollback skipped',
      ':alarm_clock: Rollback approval expired',
      ':rotating_light: Rollback did not clear the alert',
      ':snowflake: Rollback suppressed: cooldown',
    ]);
    for (const b of bodies) {
      assert.equal(b.channel, '#deploys');
      assert.equal(b.username, 'Rollback Controller');
      assert.equal(b.icon_emoji, ':rewind:');
      assert.ok(typeof b.text === 'string' && b.text.length > 0, 'fallback text present');
    }
    const json = (i: number) => JSON.stringify(bodies[i]);
    assert.ok(json(0).includes('/api/admin/rollback/jobs/job-held/approve'));
    assert.ok(json(0).includes('$ROLLBACK_OPERATOR_SECRET'));
    for (const s of [
      'CriticalErrorRate',
      'error_rate_threshold',
      'high',
      'Deployment payments/api',
      '7 → 6',
      'registry.example/api:v2.1.0',
      'registry.example/api:v2.0.3',
      'Alert source',
      'Alertmanager',
    ]) {
      assert.ok(json(1).includes(s), `started: missing ${s}`);
    }
    assert.ok(json(2).includes('2 updated · 1 ready · 3 desired'));
    assert.ok(json(3).includes('succeeded') && json(3).includes('1m 30s'));
    assert.ok(json(4).includes('resolved 42 s after the rollback'));
    assert.ok(json(5).includes('ProgressDeadlineExceeded'));
    assert.ok(json(6).includes('the Deployment is paused'));
    assert.ok(bodies[8].text?.startsWith('<!here>'));
    assert.ok(json(9).includes('cooldown 30m'));

    // Nine job messages, one timeline entry each; the decision has no job.
    assert.equal(sent.length, 9);
    assert.deepEqual(sent[1], {
      jobId: 'job-7f3a',
      event: 'slack',
      message: 'posted "started" to #deploys',
    });

    assert.deepEqual(await notificationCounts(metrics), { sent: 10 });
    assert.equal(sink.attempts.length, 11, 'the first message was retried once');

    // The secret is only in the request line: not in bodies, logs, timeline entries or metrics.
    const everywhere = [
      JSON.stringify(sink.attempts),
      logs.join(''),
      JSON.stringify(sent),
      await metrics.registry.metrics(),
    ];
    for (const text of everywhere) {
      assert.ok(!text.includes(sink.token), 'webhook token leaked');
      assert.ok(!text.includes('/services/T0SINK'), 'webhook path leaked');
    }
    assert.ok(
      logs.some((l) => l.includes('"status":500') && l.includes('retrying')),
      'the failure was logged',
    );
  });

  test('a label cannot inject a broadcast or a link', async () => {
    sink.messages.length = 0;
    sink.respondWith(() => undefined);
    const { notifier } = makeNotifier({ webhookUrl: sink.url });
    const job = sampleJob();
    job.alert = {
      ...job.alert,
      labels: { ...job.alert.labels, team: '<!channel>', link: '<https://evil.example|click>' },
    };
    notifier.job(job, 'started');
    notifier.decision({
      alertname: 'X',
      decision: 'notify_only',
      reason: 'r',
      labels: { team: '<!channel> hi' },
    });
    await sink.waitFor(2);
    const raw = JSON.stringify(sink.messages);
    assert.ok(!raw.includes('<!channel>'));
    assert.ok(!raw.includes('<https://evil.example'));
    assert.ok(raw.includes('team=&lt;!channel&gt;'));
    assert.ok(raw.includes('link=&lt;https://evil.example|click&gt;'));
  });

  test('channel: rule channel > namespace channel > default; none leaves the webhook default', async () => {
    sink.messages.length = 0;
    const { notifier } = makeNotifier({
      webhookUrl: sink.url,
      channel: '#deploys',
      namespaceChannels: { payments: '#payments' },
    });
    const other = sampleJob({
      id: 'j2',
      target: { kind: 'StatefulSet', namespace: 'search', name: 'es' },
    });
    notifier.job(sampleJob(), 'started', { channel: '#rule' });
    notifier.job(sampleJob(), 'started');
    notifier.job(other, 'started');
    await sink.waitFor(3);
    const { notifier: plain } = makeNotifier({ webhookUrl: sink.url });
    plain.job(other, 'started');
    await sink.waitFor(4);
    assert.deepEqual(
      sink.messages.map((m) => m.body.channel),
      ['#rule', '#payments', '#deploys', undefined],
    );
  });

  test('without a webhook URL nothing is sent and every call counts as disabled', async () => {
    const { notifier, metrics } = makeNotifier({});
    assert.equal(notifier.enabled, false);
    notifier.job(sampleJob(), 'started');
    notifier.job(sampleJob(), 'progress');
    notifier.decision({ alertname: 'X', decision: 'paused', reason: 'paused', labels: {} });
    await notifier.flush(100);
    assert.deepEqual(await notificationCounts(metrics), { disabled: 3 });
  });

  test('an unusable webhook URL disables Slack without printing the URL', async () => {
    const { notifier, logs } = makeNotifier({
      webhookUrl: 'ftp://hooks.example/services/SECRET123',
    });
    assert.equal(notifier.enabled, false);
    assert.ok(logs.join('').includes('not an http(s) URL'));
    assert.ok(!logs.join('').includes('SECRET123'));
  });
});
