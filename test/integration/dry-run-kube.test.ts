// /test against a reachable cluster: revisions and image changes come from the live workload,
// the patch is checked with a server-side dry run, and the workload is left untouched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeKube } from '../support/fake-kube/index.js';
import type { FakeKube } from '../support/fake-kube/types.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

describe('dry run with a cluster', () => {
  let fake: FakeKube;
  let s: TestServer;
  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 5 });
    await fake.createDeployment('shop', 'api', { image: 'shop/api:v1' });
    await fake.settle();
    await fake.setImage('Deployment', 'shop', 'api', 'shop/api:v2');
    await fake.settle();
    s = await startTestServer({ env: { KUBECONFIG: fake.kubeconfigPath } });
  });
  after(async () => {
    await s.close();
    await fake.close();
  });

  test('shows from → to revision and images, verified by a server-side dry run, changing nothing', async () => {
    const before = fake.get('Deployment', 'shop', 'api');
    const patchesBefore = fake.requests.filter((r) => r.method === 'PATCH').length;
    const r = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { namespace: 'shop', deployment: 'api' },
    });
    assert.equal(r.status, 200);
    const [p] = r.body.plans;
    assert.equal(p.decision, 'queued');
    assert.equal(p.fromRevision, 2);
    assert.equal(p.toRevision, 1);
    assert.deepEqual(p.changes.images, [
      { container: 'api', from: 'shop/api:v2', to: 'shop/api:v1' },
    ]);
    assert.equal(p.execution.action, 'rollback');
    assert.equal(p.execution.serverDryRun, true);
    const patches = fake.requests.filter((r) => r.method === 'PATCH').slice(patchesBefore);
    assert.ok(
      patches.length >= 1 && patches.every((r) => r.query['dryRun'] === 'All'),
      'only dry-run patches were sent',
    );
    assert.deepEqual(fake.get('Deployment', 'shop', 'api'), before);
    assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, []);
  });

  test('a workload that does not exist is reported, not planned', async () => {
    const r = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { namespace: 'shop', deployment: 'ghost' },
    });
    assert.equal(r.body.plans[0].execution.action, 'skip');
    assert.match(r.body.plans[0].execution.reason, /not found/);
  });

  test('readiness and status name the Kubernetes executor as available', async () => {
    const ready = (await (await fetch(`${s.url}/readyz`)).json()) as {
      checks: Record<string, string>;
    };
    assert.equal(ready.checks['kubernetes'], 'available');
  });
});

describe('no cluster', () => {
  test('the server starts; readiness and status say the executor is unavailable; dry runs still answer', async () => {
    const s = await startTestServer({
      env: { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent' },
    });
    try {
      const ready = await fetch(`${s.url}/readyz`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { checks: Record<string, string> };
      assert.match(body.checks['kubernetes'], /^unavailable: KUBECONFIG names no existing file/);
      const status = await s.request('GET', 'status');
      assert.equal(status.body.executors.kubernetes.available, false);
      const plan = await s.request('POST', 'test', {
        alert_name: 'CriticalErrorRate',
        labels: { namespace: 'shop', deployment: 'api' },
      });
      assert.equal(plan.status, 200);
      // Not `queued`: /trigger would queue a job that cannot run, and the plan says so.
      assert.equal(plan.body.plans[0].decision, 'executor_unavailable');
      assert.match(
        plan.body.plans[0].reason,
        /kubernetes executor is unavailable \(.*KUBECONFIG.*\), so the job would fail/,
      );
      assert.equal(plan.body.plans[0].execution.action, 'unavailable');
      const trig = await s.request('POST', 'trigger', {
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'CriticalErrorRate', namespace: 'shop', deployment: 'api' },
            startsAt: new Date().toISOString(),
            fingerprint: 'nocluster',
          },
        ],
      });
      const id = trig.body.decisions[0].jobId;
      let job: any;
      await until(
        async () => {
          job = (await s.request('GET', `jobs/${id}`)).body;
          return job.state === 'failed';
        },
        10_000,
        'the job fails',
      );
      assert.match(job.reason, /KUBECONFIG names no existing file|no Kubernetes config/);
    } finally {
      await s.close();
    }
  });
});
