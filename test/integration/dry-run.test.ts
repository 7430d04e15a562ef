// POST /test shows what /trigger would do, in three body shapes, and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { SECRET, startTestServer, type TestServer } from '../support/server.js';

describe('POST /test (dry run)', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    s = await startTestServer({ executors: { kubernetes: exec } });
  });
  after(() => s.close());

  async function metricsSnapshot(): Promise<string> {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => /^rollback_(decisions|jobs|alerts_received|notifications)/.test(l))
      .join('\n');
  }

  test('JSON short form: decision, target, revisions and image changes; nothing created', async () => {
    const before = await metricsSnapshot();
    const r = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: 'shop', deployment: 'api' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.dryRun, true);
    const [p] = r.body.plans;
    assert.equal(p.decision, 'queued');
    assert.equal(p.trigger, 'error_rate_threshold');
    assert.equal(p.confidence, 'high');
    assert.deepEqual(p.target, { kind: 'Deployment', namespace: 'shop', name: 'api' });
    assert.equal(p.fromRevision, 7);
    assert.equal(p.toRevision, 6);
    assert.deepEqual(p.changes.images, [{ container: 'app', from: 'app:v7', to: 'app:v6' }]);
    assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, []);
    assert.deepEqual(
      exec.calls.map((c) => c.method),
      ['plan'],
      'only plan was called: no pin, no execute',
    );
    assert.equal(await metricsSnapshot(), before, 'no decision, job or alert counted');
  });

  test('form body with label.NAME fields', async () => {
    const res = await fetch(`${s.url}/rollback/test`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SECRET}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'alert_name=RedisConnectionFailure&label.severity=critical&label.namespace=shop&label.service=cart',
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      plans: Array<{ decision: string; target: { name: string } }>;
    };
    assert.equal(body.plans[0].decision, 'awaiting_approval');
    assert.equal(body.plans[0].target.name, 'cart');
  });

  test('full Alertmanager payload: per-alert plans, including state (duplicate after a real trigger)', async () => {
    const a = firing('CriticalErrorRate', 'web', { fingerprint: 'dry1' });
    const real = await s.request('POST', 'trigger', payload([a]));
    assert.equal(real.body.decisions[0].decision, 'queued');
    const r = await s.request('POST', 'test', payload([a, firing('Unknown', 'x')]));
    assert.deepEqual(
      r.body.plans.map((p: { decision: string }) => p.decision),
      ['duplicate', 'unmapped'],
    );
    const jobs = (await s.request('GET', 'jobs')).body.jobs;
    assert.equal(jobs.length, 1, 'the dry run added no job');
  });

  test('dry run reflects pause', async () => {
    await s.request('POST', 'pause');
    const r = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: 'shop', deployment: 'api' },
    });
    assert.equal(r.body.plans[0].decision, 'paused');
    await s.request('POST', 'resume');
  });

  test('the shipped rules match critical alerts only: the same alert at warning is unmapped', async () => {
    for (const severity of ['warning', undefined]) {
      const r = await s.request('POST', 'test', {
        alert_name: 'CriticalErrorRate',
        labels: { namespace: 'shop', deployment: 'api', ...(severity ? { severity } : {}) },
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.plans[0].decision, 'unmapped', String(severity));
      assert.match(
        r.body.plans[0].reason,
        /no rule maps alert "CriticalErrorRate" .*\(rule CriticalErrorRate needs severity="critical"\)/,
      );
    }
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['missing alert_name', { labels: {} }, /invalid dry-run request/],
    ['labels not strings', { alert_name: 'X', labels: { a: 1 } }, /invalid dry-run request/],
    ['unknown field', { alert_name: 'X', surprise: true }, /invalid dry-run request/],
  ];
  for (const [name, body, msg] of bad) {
    test(`${name} → 400 with details`, async () => {
      const r = await s.request('POST', 'test', body);
      assert.equal(r.status, 400);
      assert.match(r.body.error, msg);
      assert.ok(r.body.details.length > 0);
    });
  }

  test('wrong content type → 415 saying which header to set', async () => {
    const r = await s.request('POST', 'test', 'alert_name=X', { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
    assert.match(r.body.error, /content-type: application\/json/);
  });

  test('JSON sent as a form (curl -d without -H) → 415 saying to set content-type', async () => {
    const before = await metricsSnapshot();
    const json = JSON.stringify({
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', deployment: 'api' },
    });
    for (const body of [json, `  ${json}`, '[]']) {
      const r = await s.request('POST', 'test', body, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      assert.equal(r.status, 415, JSON.stringify(r.body));
      assert.match(r.body.error, /JSON body sent as a form/);
      assert.match(r.body.error, /set the header 'content-type: application\/json'/);
    }
    assert.equal(await metricsSnapshot(), before);
  });

  test('GET /test → 405 saying POST', async () => {
    const r = await s.request('GET', 'test');
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.match(r.body.error, /takes POST only/);
  });
});
