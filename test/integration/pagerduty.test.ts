// PagerDuty change events from the running controller to a local Events API v2 sink: a finished
// rollback arrives as one change event that names the workload and the versions, with the
// cluster as its source and links back to the job; a skipped job (nothing changed) sends none;
// the routing key goes in the body only, never in logs.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ExecutionContext, ExecutionResult } from '../../src/model/executor.js';
import type { Job } from '../../src/model/job.js';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer } from '../support/server.js';
import { until } from '../support/until.js';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdef012345';

/** Rolls `checkout` back from 1.4.2 to 1.4.1; skips anything else. */
class ImageExecutor extends RecordingExecutor {
  override async execute(job: Job, ctx: ExecutionContext): Promise<ExecutionResult> {
    if (job.target?.name !== 'checkout') return { outcome: 'skipped', reason: 'moved on' };
    await ctx.update({
      actedAt: new Date().toISOString(),
      patched: true,
      toRevision: 6,
      images: [
        {
          container: 'app',
          from: 'registry.example/shop/checkout:1.4.2',
          to: 'registry.example/shop/checkout:1.4.1',
        },
      ],
    });
    return { outcome: 'succeeded', reason: 'rolled back' };
  }
}

test('a finished rollback is one PagerDuty change event; a skipped one sends none', async () => {
  const events: Array<{ path: string; body: any }> = [];
  let first = true;
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The first attempt meets a PagerDuty hiccup: retried, not lost.
      if (first) {
        first = false;
        res.writeHead(500).end();
        return;
      }
      events.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', message: 'Change event processed' }));
    });
  });
  await new Promise<void>((ok) => sink.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v2/change/enqueue`;
  const s = await startTestServer({
    executors: { kubernetes: new ImageExecutor() },
    env: {
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: url,
      ROLLBACK_CLUSTER_NAME: 'us-1',
      ROLLBACK_EXTERNAL_URL: 'https://rollback.example.com',
    },
  });
  try {
    const skipped = await s.request(
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', 'cart')]),
    );
    const r = await s.request(
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', 'checkout')]),
    );
    const id = r.body.decisions[0].jobId as string;
    await until(async () => (await s.request('GET', `jobs/${id}`)).body.state === 'succeeded');
    await until(() => events.length === 1, 30_000, 'the change event');
    const [event] = events;
    assert.equal(event.path, '/v2/change/enqueue');
    assert.equal(event.body.routing_key, ROUTING_KEY);
    assert.equal(event.body.payload.summary, 'rolled back shop/checkout 1.4.2 → 1.4.1');
    assert.equal(event.body.payload.source, 'us-1');
    assert.equal(event.body.payload.custom_details.job_id, id);
    assert.equal(event.body.payload.custom_details.alert, 'CriticalErrorRate');
    assert.deepEqual(event.body.links[0], {
      href: `https://rollback.example.com/api/admin/rollback/jobs/${id}`,
      text: `Rollback job ${id}`,
    });
    const skippedId = skipped.body.decisions[0].jobId as string;
    await until(async () => (await s.request('GET', `jobs/${skippedId}`)).body.state === 'skipped');
    await s.running.app.controller.close(); // flushes what is queued for PagerDuty
    assert.equal(events.length, 1, 'nothing for the skipped job');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /rollback_notifications_total\{channel="pagerduty",outcome="sent"\} 1/);
    assert.ok(!s.logs.join('\n').includes(ROUTING_KEY), 'the routing key is never logged');
  } finally {
    await s.close();
    await new Promise<void>((ok) => sink.close(() => ok()));
  }
});
