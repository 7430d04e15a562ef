// Slack down (answering 500) or hanging never holds a rollback back: with the shipped Slack
// settings (5 s timeout, 3 retries) every job against the fake cluster succeeds while Slack has
// delivered nothing, or while every post hangs forever. How long each took is a figure printed
// next to the healthy baseline, never asserted (a busy machine is slow with or without Slack).
// Everything said to Slack, the logs, responses and /metrics are also scanned for the secrets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { SECRET, startTestServer, type TestServer } from '../support/server.js';
import { startSlackSink, type SinkResponse, type SlackSink } from '../support/slack-sink.js';
import { deployedTwice, image, jobIn, startsNow } from './support/cluster.js';
import { Figures, quantile } from './support/figures.js';
import { LeakWatch } from './support/leaks.js';

const figures = new Figures('slack-faults');
const NS = 'shop';
const JOBS_PER_PHASE = 3;

describe('Slack down or hanging', () => {
  let fake: FakeKube;
  const watch = new LeakWatch();
  const secrets: Record<string, string> = { webhookSecret: SECRET };

  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 10 });
  });
  after(async () => {
    await fake.close();
  });

  /**
   * A fresh controller and Slack sink answering with `answer`; rolls back fresh workloads one
   * after another and checks each succeeded. `then` runs before the sink closes.
   */
  async function phase(
    name: string,
    answer: () => SinkResponse | undefined,
    then?: (sink: SlackSink) => Promise<void>,
  ): Promise<void> {
    const sink = await startSlackSink();
    secrets[`slackUrl(${name})`] = sink.url;
    secrets[`slackToken(${name})`] = sink.token;
    sink.respondWith(answer);
    let s: TestServer | undefined;
    try {
      const server = await startTestServer({
        env: { KUBECONFIG: fake.kubeconfigPath, SLACK_WEBHOOK_URL: sink.url },
        configText: [
          'rollout: { pollIntervalSeconds: 0.05 }',
          'policy: { circuitBreaker: { maxRollbacks: 100 } }',
        ].join('\n'),
      });
      s = server;
      const times: number[] = [];
      const acks: number[] = [];
      for (let i = 0; i < JOBS_PER_PHASE; i++) {
        const target = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${i}`;
        await deployedTwice(fake, NS, target);
        const t0 = performance.now();
        const r = await server.request(
          'POST',
          'trigger',
          payload([firing('CriticalErrorRate', target, { startsAt: startsNow() })]),
        );
        const ackMs = performance.now() - t0;
        watch.add(`${name}: trigger response`, r.body);
        assert.equal(r.status, 202);
        acks.push(ackMs);
        const id = r.body.decisions[0].jobId as string;
        const job = await jobIn(server.request, id, ['succeeded', 'failed'], 15_000);
        watch.add(`${name}: job`, job);
        assert.equal(job.state, 'succeeded', job.reason);
        assert.equal(image(fake, NS, target), `${NS}/${target}:v1`);
        times.push(performance.now() - t0);
      }
      figures.add(name, 'alert → succeeded p50', quantile(times, 0.5), 'ms');
      figures.add(name, 'alert → succeeded max', Math.max(...times), 'ms');
      figures.add(name, '202 answered in (max)', Math.max(...acks), 'ms');
      await sink.waitForAttempts(1, 5000); // Slack was really in the path
      if (then) await then(sink);
      figures.add(
        name,
        'Slack posts attempted / delivered',
        `${sink.attempts.length} / ${sink.messages.length}`,
      );
      watch.add(`${name}: metrics`, await (await fetch(`${server.url}/metrics`)).text());
      watch.add(`${name}: status`, (await server.request('GET', 'status')).body);
      for (const a of sink.attempts) watch.add(`${name}: slack body`, a.body);
    } finally {
      await sink.close(); // first: hung posts end, so the server's Slack flush does not wait
      await s?.close();
      for (const l of s?.logs ?? []) watch.add(`${name}: log`, l);
    }
  }

  test('baseline: Slack healthy', async () => {
    await phase(
      'Slack healthy',
      () => undefined,
      (sink) => sink.waitFor(JOBS_PER_PHASE * 2, 5000),
    );
  });

  test('Slack answering 500: rollbacks succeed with nothing delivered; queued messages delivered once it recovers', async () => {
    await phase(
      'Slack 500',
      () => ({ status: 500, body: 'internal_error' }),
      async (sink) => {
        assert.equal(sink.messages.length, 0, 'nothing got through while Slack was down');
        sink.respondWith(() => undefined);
        await sink.waitFor(1, 10_000); // retried with backoff
      },
    );
  });

  test('Slack hanging forever: rollbacks succeed', async () => {
    await phase('Slack hanging', () => ({ status: 200, hangMs: Infinity }));
  });

  test('no secret in Slack messages, logs, responses, status or metrics', () => {
    assert.ok(watch.size > 50, `enough material scanned (${watch.size})`);
    figures.add('leak scan', 'texts scanned', watch.size);
    assert.deepEqual(watch.find(secrets), []);
  });
});
