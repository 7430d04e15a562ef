// Slack failing in each way it can, through the real @slack/webhook client: retried, waited
// for, given up on, or timed out, and never in the way of the caller.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { JobStage } from '../../src/model/job-notifier.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { sampleJob } from '../unit/notify-fixtures.js';
import { headerOf, makeNotifier, notificationCounts } from './slack-harness.js';

describe('Slack failures', () => {
  let sink: SlackSink;
  beforeEach(async () => {
    sink = await startSlackSink();
  });
  afterEach(async () => {
    await sink.close();
  });

  test('500 twice then 200: delivered once, counted sent once and never failed', async () => {
    sink.respondWith((req) => (req.n <= 2 ? { status: 500 } : undefined));
    const { notifier, metrics, sent } = makeNotifier({ webhookUrl: sink.url, retries: 3 });
    notifier.job(sampleJob(), 'started');
    await sink.waitFor(1);
    await notifier.flush(2000);
    assert.equal(sink.attempts.length, 3);
    assert.deepEqual(
      sink.attempts.map((a) => a.status),
      [500, 500, 200],
    );
    assert.equal(sink.messages.length, 1);
    assert.deepEqual(await notificationCounts(metrics), { sent: 1 });
    assert.equal(sent.length, 1);
  });

  test('429 with Retry-After: 1 waits about a second, then delivers', async () => {
    sink.respondWith((req) =>
      req.n === 1
        ? { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }
        : undefined,
    );
    // The wait goes through the injected sleep: what it asked for is exact, on any machine.
    const waits: number[] = [];
    const { notifier, metrics } = makeNotifier({
      webhookUrl: sink.url,
      retryBaseMs: 10,
      sleep: async (ms) => void waits.push(ms),
    });
    notifier.job(sampleJob(), 'started');
    await sink.waitFor(1, 10_000);
    assert.equal(sink.attempts.length, 2);
    assert.deepEqual(waits, [1000], 'waited Retry-After (1 s), not the 10 ms backoff');
    await notifier.flush(10_000);
    assert.deepEqual(await notificationCounts(metrics), { sent: 1 });
  });

  test('400 is not retried and counts as failed', async () => {
    sink.respondWith(() => ({ status: 400, body: 'invalid_blocks' }));
    const { notifier, metrics, logs, sent } = makeNotifier({ webhookUrl: sink.url, retries: 3 });
    notifier.job(sampleJob(), 'started');
    await notifier.flush(2000);
    assert.equal(sink.attempts.length, 1);
    assert.deepEqual(await notificationCounts(metrics), { failed: 1 });
    assert.equal(sent.length, 0, 'nothing recorded as posted');
    const line = logs.find((l) => l.includes('not delivered'));
    assert.ok(line?.includes('"status":400'), line);
    assert.ok(!logs.join('').includes(sink.token));
  });

  test('a hanging Slack: each attempt times out, and callers never wait', async () => {
    sink.respondWith(() => ({ status: 200, hangMs: Infinity }));
    const { notifier, metrics, logs } = makeNotifier({
      webhookUrl: sink.url,
      timeoutMs: 200,
      retries: 1,
      retryBaseMs: 10,
    });
    // A whole job's worth of notifications, as the runner would send them.
    const stages: JobStage[] = [
      'queued',
      'started',
      'progress',
      'progress',
      'progress',
      'progress',
      'progress',
      'progress',
      'finished',
      'recovered',
    ];
    const job = sampleJob();
    // Slack never answers: that this synchronous loop completes at all shows no caller waits.
    for (const stage of stages) assert.equal(notifier.job(job, stage), undefined);

    // The first message: attempt, 200 ms timeout, 10 ms backoff, attempt, timeout, give up.
    await sink.waitForAttempts(3, 3000);
    // Three attempts that Slack never answered: each one ended by the notifier's own timeout
    // (arrival times at the sink are not compared: a busy machine delays the first arrival).
    assert.ok(
      logs.some((l) => l.includes('slack post failed; retrying')),
      'the first attempt timed out and was retried',
    );
    assert.equal(sink.messages.length, 0);

    // Shutdown does not wait for a hanging Slack beyond its budget.
    const flushStart = performance.now();
    await notifier.flush(300);
    const flushMs = performance.now() - flushStart;
    assert.ok(flushMs >= 290, `flush took ${flushMs} ms: it gave Slack its budget`);
    assert.equal(sink.messages.length, 0, 'and returned while Slack still hangs');

    const counts = await notificationCounts(metrics);
    assert.ok((counts.failed ?? 0) >= 1, JSON.stringify(counts));
    assert.equal(counts.sent, undefined);
    assert.ok(logs.some((l) => l.includes('"errorCode":"timeout"')));
    assert.ok(!logs.join('').includes(sink.token));
  });

  test('flush waits for pending sends when Slack is slow but answering', async () => {
    sink.respondWith(() => ({ status: 200, hangMs: 100 }));
    const { notifier, metrics } = makeNotifier({ webhookUrl: sink.url });
    notifier.job(sampleJob(), 'awaiting_approval');
    notifier.job(sampleJob(), 'started');
    notifier.job(sampleJob(), 'finished');
    assert.equal(sink.messages.length + sink.attempts.length, 0, 'nothing sent synchronously');
    await notifier.flush(5000);
    // The sink records a post when it arrives, before its delayed answer: all three were answered.
    assert.deepEqual(await notificationCounts(metrics), { sent: 3 });
    assert.deepEqual(
      sink.messages.map((m) => headerOf(m.body)),
      [
        ':raised_hand: Rollback awaiting approval',
        ':rewind: Rollback started',
        ':white_check_mark: Rollback succeeded',
      ],
    );
  });
});
