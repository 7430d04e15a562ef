// Slack wired into the running controller: what the deployment channel sees for a rollback and a
// held job, what lands on the job timeline, and that a Slack outage never slows a rollback.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { OPERATOR_SECRET, SECRET, startTestServer, type TestServer } from '../support/server.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { until } from '../support/until.js';

const texts = (sink: SlackSink) =>
  sink.messages.map((m) => `${m.body.text ?? ''}\n${JSON.stringify(m.body.blocks ?? [])}`);

describe('Slack from the running controller', () => {
  let sink: SlackSink;
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    sink = await startSlackSink();
    s = await startTestServer({
      executors: { kubernetes: exec },
      env: {
        SLACK_WEBHOOK_URL: sink.url,
        ROLLBACK_OPERATOR_USER: 'oncall',
        ROLLBACK_OPERATOR_SECRET: OPERATOR_SECRET,
        ROLLBACK_EXTERNAL_URL: 'https://rollback.example.com',
      },
      configText: 'slack: { channel: "#deploys", progressIntervalSeconds: 0.1 }',
    });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  test('a rollback is followed from queued to finished, and the timeline records the posts', async () => {
    const r = await s.request(
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', 'checkout')]),
    );
    const id = r.body.decisions[0].jobId as string;
    await until(async () => (await s.request('GET', `jobs/${id}`)).body.state === 'succeeded');
    await until(() =>
      texts(sink).some((t) => /succeeded|finished/i.test(t) && t.includes('checkout')),
    );
    const all = texts(sink).join('\n');
    assert.match(all, /CriticalErrorRate/);
    assert.match(all, /error_rate_threshold/);
    assert.match(all, /shop/);
    assert.ok(sink.messages.every((m) => m.body.channel === '#deploys'));
    await until(async () =>
      (await s.request('GET', `jobs/${id}`)).body.timeline.some(
        (t: { event: string }) => t.event === 'slack',
      ),
    );
  });

  test('a held job posts the approve command, without any secret', async () => {
    const r = await s.request(
      'POST',
      'trigger',
      payload([firing('RedisConnectionFailure', 'cart')]),
    );
    const id = r.body.decisions[0].jobId as string;
    await until(() =>
      texts(sink).some((t) => t.includes(`/api/admin/rollback/jobs/${id}/approve`)),
    );
    const msg = texts(sink).find((t) => t.includes(`/jobs/${id}/approve`))!;
    assert.match(msg, /https:\/\/rollback\.example\.com/);
    for (const secret of [SECRET, OPERATOR_SECRET, sink.token])
      assert.ok(!texts(sink).join('\n').includes(secret));
    assert.ok(!s.logs.join('\n').includes(sink.token), 'the webhook URL never reaches the logs');
  });

  test('decisions worth knowing are posted (paused)', async () => {
    await s.request('POST', 'pause', undefined, { authorization: `Bearer ${OPERATOR_SECRET}` });
    await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', 'frozen')]));
    await until(() => texts(sink).some((t) => /paused/i.test(t) && t.includes('frozen')));
    await s.request('POST', 'resume', undefined, { authorization: `Bearer ${OPERATOR_SECRET}` });
  });
});

describe('Slack down', () => {
  test('a hanging Slack never delays the webhook answer or the rollback', async () => {
    const sink = await startSlackSink();
    sink.respondWith(() => ({ status: 200, hangMs: Infinity }));
    const exec = new RecordingExecutor();
    const s = await startTestServer({
      executors: { kubernetes: exec },
      env: { SLACK_WEBHOOK_URL: sink.url },
      configText: 'slack: { timeoutSeconds: 1 }',
    });
    try {
      // Slack never answers in this test, so everything below happens while it hangs.
      const r = await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', 'api')]));
      assert.equal(r.status, 202);
      const id = r.body.decisions[0].jobId as string;
      await until(
        async () => (await s.request('GET', `jobs/${id}`)).body.state === 'succeeded',
        10_000,
        'the rollback finished',
      );
      await sink.waitForAttempts(1, 10_000);
      assert.equal(sink.messages.length, 0, 'Slack has not answered a single post');
    } finally {
      await s.close();
      await sink.close();
    }
  });

  test('a failing Slack is counted, not fatal', async () => {
    const sink = await startSlackSink();
    sink.respondWith(() => ({ status: 500 }));
    const s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      env: { SLACK_WEBHOOK_URL: sink.url },
      configText: 'slack: { retries: 1, timeoutSeconds: 0.5 }',
    });
    try {
      const r = await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', 'api')]));
      assert.equal(r.status, 202);
      await until(
        async () =>
          /rollback_notifications_total\{channel="slack",outcome="failed"\} [1-9]/.test(
            await (await fetch(`${s.url}/metrics`)).text(),
          ),
        10_000,
      );
      const job = (await s.request('GET', `jobs/${r.body.decisions[0].jobId}`)).body;
      assert.equal(job.state, 'succeeded');
    } finally {
      await s.close();
      await sink.close();
    }
  });
});
