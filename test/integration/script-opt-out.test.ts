// Script jobs against the fake cluster, from the side of a team that opted its workload out
// (rollback-controller.io/disabled) and of an alert whose labels name no valid workload: the
// script never runs for the first, and never sees the raw labels posing as its target.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const CONFIG = `
scriptsDir: ${resolve('test/fixtures/scripts')}
rules:
  - alert: CheckoutBroken
    trigger: error_rate_threshold
    confidence: high
    script: { path: record.sh, timeoutSeconds: 30 }
`;

describe('script jobs and the workload they name', () => {
  let fake: FakeKube;
  let s: TestServer;
  const out = mkdtempSync(join(tmpdir(), 'rc-script-optout-'));

  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 10 });
    await fake.createDeployment('shop', 'legacy', {
      image: 'shop/legacy:v1',
      annotations: { 'rollback-controller.io/disabled': 'Yes' },
    });
    await fake.createDeployment('shop', 'checkout', { image: 'shop/checkout:v1' });
    await fake.settle();
    s = await startTestServer({
      configText: CONFIG,
      env: { KUBECONFIG: fake.kubeconfigPath, FIXTURE_OUT: out, PATH: process.env['PATH'] },
    });
  });
  after(async () => {
    await s.close();
    await fake.close();
    rmSync(out, { recursive: true, force: true });
  });

  const finished = async (id: string) => {
    let job: any;
    await until(async () => {
      job = (await s.request('GET', `jobs/${id}`)).body;
      return ['succeeded', 'failed', 'skipped'].includes(job.state);
    }, 15_000);
    return job;
  };

  test('a workload that opted out is not rolled back by a script either', async () => {
    const alert = firing('CheckoutBroken', 'legacy', { labels: { namespace: 'shop' } });
    const dry = await s.request('POST', 'test', payload([alert]));
    assert.match(JSON.stringify(dry.body.plans[0]), /opted out/);
    const r = await s.request('POST', 'trigger', payload([alert]));
    assert.equal(r.body.decisions[0].decision, 'queued');
    const job = await finished(r.body.decisions[0].jobId);
    assert.equal(job.state, 'skipped', JSON.stringify(job));
    assert.match(job.reason, /Deployment shop\/legacy opted out .*"Yes".*not run/);
    assert.equal(existsSync(join(out, 'environ')), false, 'the script never ran');
  });

  test('labels that do not validate as a target reach the script only as raw labels', async () => {
    const hostile = '../../etc;$(id)';
    const alert = firing('CheckoutBroken', 'x', {
      labels: { namespace: 'shop', deployment: hostile, service: hostile },
    });
    const r = await s.request('POST', 'trigger', payload([alert]));
    const job = await finished(r.body.decisions[0].jobId);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    const env = Object.fromEntries(
      readFileSync(join(out, 'environ'), 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    assert.equal(env['ROLLBACK_TARGET'], '');
    assert.equal(env['ROLLBACK_NAMESPACE'], 'shop', 'a valid, allowed namespace is kept');
    assert.equal(env['ROLLBACK_LABEL_DEPLOYMENT'], hostile, 'still there, named as a raw label');
    const doc = JSON.parse(readFileSync(join(out, 'alert.json'), 'utf8'));
    assert.deepEqual(doc.target, { kind: '', namespace: 'shop', name: '' });
  });
});
