// Progress throttling and queue overflow, end to end through the real @slack/webhook client.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Job } from '../../src/model/job.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { iso, sampleJob } from '../unit/notify-fixtures.js';
import { headerOf, makeNotifier, notificationCounts } from './slack-harness.js';

function withProgress(job: Job, updated: number, desired = 10): Job {
  return {
    ...job,
    timeline: [
      ...job.timeline,
      {
        at: iso(updated),
        event: 'progress',
        message: `step ${updated}`,
        data: { updated, ready: updated - 1, desired },
      },
    ],
  };
}

describe('Slack progress throttling and overflow', () => {
  let sink: SlackSink;
  beforeEach(async () => {
    sink = await startSlackSink();
  });
  afterEach(async () => {
    await sink.close();
  });

  test('10 progress updates in 100 ms after the start: one progress post, an interval later, with the last numbers', async () => {
    // The clock and the release timer are the test's: the interval is checked exactly, however
    // slowly a busy machine delivers the posts.
    let now = 0;
    const timers: Array<{ fn: () => void; ms: number }> = [];
    const { notifier, metrics } = makeNotifier({
      webhookUrl: sink.url,
      progressIntervalMs: 1000,
      clock: () => now,
      setTimer: (fn, ms) => timers.push({ fn, ms }),
    });
    const job = sampleJob();
    notifier.job(job, 'started');
    for (let i = 1; i <= 10; i++) {
      notifier.job(withProgress(job, i), 'progress');
      now += 10;
    }
    await sink.waitFor(1);
    // One release timer, armed for a whole interval after the started post (at 0 ms).
    assert.deepEqual(
      timers.map((t) => t.ms),
      [1000],
    );
    assert.equal(sink.messages.length, 1, 'started only: progress right after it says nothing new');
    now = 1000;
    timers[0].fn();
    await notifier.flush(5000);
    assert.equal(sink.messages.length, 2);
    assert.match(sink.messages[1].body.text ?? '', /10\/10 updated, 9\/10 ready/);
    // Webhook posts are new messages: one progress post per job, whatever comes later.
    now = 5000;
    notifier.job(withProgress(job, 11, 12), 'progress');
    await notifier.flush(5000);
    assert.equal(sink.messages.length, 2);
    assert.deepEqual(await notificationCounts(metrics), { sent: 2 });
  });

  test('a rollback running 10 minutes posts at most four messages, a held and approved one too', async () => {
    // The clock and every timer are the test's: 10 minutes of progress every 5 s pass at once.
    let now = 0;
    const timers: Array<{ fn: () => void; at: number; fired?: boolean }> = [];
    const { notifier } = makeNotifier({
      webhookUrl: sink.url,
      progressIntervalMs: 60_000,
      queuedHoldMs: 10_000,
      clock: () => now,
      setTimer: (fn, ms) => timers.push({ fn, at: now + ms }),
    });
    const advanceTo = (t: number) => {
      now = t;
      for (const timer of timers)
        if (!timer.fired && timer.at <= now) {
          timer.fired = true;
          timer.fn();
        }
    };
    const run = (job: Job, held: boolean, laneBusyMs = 0) => {
      if (held) notifier.job(job, 'awaiting_approval');
      notifier.job(job, 'queued'); // approved (held) or accepted (automatic)
      if (laneBusyMs) advanceTo(now + laneBusyMs);
      notifier.job(job, 'started');
      for (let s = 5; s <= 600; s += 5) {
        advanceTo(now + 5000);
        notifier.job(withProgress(job, Math.ceil(s / 60), 12), 'progress');
      }
      advanceTo(now + 5000);
      notifier.job({ ...job, outcome: 'succeeded', finishedAt: iso(now) }, 'finished');
      notifier.job({ ...job, outcome: 'succeeded', verdict: 'recovered' }, 'recovered');
    };
    run(sampleJob({ id: 'automatic' }), false);
    await notifier.flush(5000);
    const automatic = sink.messages.map((m) => headerOf(m.body));
    assert.deepEqual(automatic, [
      ':rewind: Rollback started',
      ':arrows_counterclockwise: Rollback in progress',
      ':white_check_mark: Rollback succeeded',
      ':large_green_circle: Alert resolved after rollback',
    ]);
    run(sampleJob({ id: 'held' }), true);
    await notifier.flush(5000);
    assert.deepEqual(
      sink.messages.slice(automatic.length).map((m) => headerOf(m.body)),
      [
        ':raised_hand: Rollback awaiting approval',
        ':rewind: Rollback started',
        ':white_check_mark: Rollback succeeded',
        ':large_green_circle: Alert resolved after rollback',
      ],
      'the approval request used the room of the progress post',
    );
    // Approved while another job ran on its workload: "queued" went out after its hold; the
    // outcome and the verdict keep their room, so "started" is what it goes without.
    const before = sink.messages.length;
    run(sampleJob({ id: 'held-and-waiting' }), true, 15_000);
    await notifier.flush(5000);
    assert.deepEqual(
      sink.messages.slice(before).map((m) => headerOf(m.body)),
      [
        ':raised_hand: Rollback awaiting approval',
        ':hourglass_flowing_sand: Rollback queued',
        ':white_check_mark: Rollback succeeded',
        ':large_green_circle: Alert resolved after rollback',
      ],
      'four in all, the outcome and the verdict among them',
    );
  });

  test('queued and started fold into one post; a job that waits gets its queued post', async () => {
    const timers: Array<{ fn: () => void; ms: number }> = [];
    const { notifier } = makeNotifier({
      webhookUrl: sink.url,
      queuedHoldMs: 10_000,
      setTimer: (fn, ms) => timers.push({ fn, ms }),
    });
    notifier.job(sampleJob({ id: 'fast' }), 'queued');
    notifier.job(sampleJob({ id: 'fast' }), 'started');
    notifier.job(sampleJob({ id: 'waits' }), 'queued');
    await sink.waitFor(1);
    assert.deepEqual(
      sink.messages.map((m) => headerOf(m.body)),
      [':rewind: Rollback started'],
    );
    for (const t of timers.filter((x) => x.ms === 10_000)) t.fn();
    await sink.waitFor(2);
    assert.equal(headerOf(sink.messages[1].body), ':hourglass_flowing_sand: Rollback queued');
  });

  test('a later stage supersedes the held progress message', async () => {
    const { notifier } = makeNotifier({ webhookUrl: sink.url, progressIntervalMs: 60_000 });
    const job = sampleJob();
    notifier.job(withProgress(job, 1), 'progress');
    notifier.job(withProgress(job, 5), 'progress');
    notifier.job({ ...job, outcome: 'succeeded', finishedAt: iso(30_000) }, 'finished');
    await sink.waitFor(2);
    await notifier.flush(1000);
    assert.deepEqual(
      sink.messages.map((m) => headerOf(m.body)),
      [':arrows_counterclockwise: Rollback in progress', ':white_check_mark: Rollback succeeded'],
    );
    assert.match(sink.messages[0].body.text ?? '', /1\/10 updated/);
  });

  test('flush sends a held progress message instead of losing it', async () => {
    const { notifier } = makeNotifier({ webhookUrl: sink.url, progressIntervalMs: 60_000 });
    const job = sampleJob();
    notifier.job(job, 'started');
    notifier.job(withProgress(job, 1), 'progress');
    notifier.job(withProgress(job, 7), 'progress');
    await notifier.flush(2000);
    assert.equal(sink.messages.length, 2);
    assert.match(sink.messages[1].body.text ?? '', /7\/10 updated/);
  });

  test('a full queue drops progress messages first and counts them', async () => {
    // The first post is answered slowly so the rest pile up behind it.
    sink.respondWith((req) => (req.n === 1 ? { status: 200, hangMs: 300 } : undefined));
    const { notifier, metrics, logs } = makeNotifier({
      webhookUrl: sink.url,
      maxPending: 3,
      progressIntervalMs: 0,
    });
    const a = sampleJob({ id: 'job-a' });
    notifier.job(a, 'awaiting_approval');
    await sink.waitForAttempts(1);
    notifier.job(withProgress(sampleJob({ id: 'job-b' }), 1), 'progress');
    notifier.job(withProgress(sampleJob({ id: 'job-c' }), 1), 'progress');
    notifier.job(a, 'started');
    notifier.job({ ...a, outcome: 'failed', reason: 'deadline exceeded' }, 'failed');
    notifier.job(sampleJob({ id: 'job-d' }), 'awaiting_approval');
    await notifier.flush(3000);

    assert.deepEqual(
      sink.messages.map((m) => headerOf(m.body)),
      [
        ':raised_hand: Rollback awaiting approval',
        ':rewind: Rollback started',
        ':x: Rollback failed',
        ':raised_hand: Rollback awaiting approval',
      ],
    );
    assert.deepEqual(await notificationCounts(metrics), { sent: 4, dropped: 2 });
    assert.equal(logs.filter((l) => l.includes('slack queue full')).length, 2);
  });
});
