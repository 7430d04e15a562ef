// /test against a reachable cluster: revisions and image changes come from the live workload,
// the patch is checked with a server-side dry run, and the workload is left untouched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { payload, firing } from '../support/alerts.js';
import { fakeKubeToken, startFakeKube } from '../support/fake-kube/index.js';
import type { FakeKube } from '../support/fake-kube/types.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { nextWholeSecond, until } from '../support/until.js';

describe('dry run with a cluster', () => {
  let fake: FakeKube;
  let s: TestServer;
  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 5 });
    await fake.createDeployment('shop', 'api', { image: 'shop/api:v1' });
    await fake.settle();
    await fake.setImage('Deployment', 'shop', 'api', 'shop/api:v2');
    await fake.settle();
    // v1 → v2 of `config` changes no image: env, args, resources and an annotation only.
    await fake.createDeployment('shop', 'config', { image: 'shop/config:v1' });
    await fake.settle();
    await mergePatch(fake, 'shop', 'config', {
      spec: {
        template: {
          metadata: { annotations: { 'example.com/owner': 'team-b' } },
          spec: {
            containers: [
              {
                name: 'config',
                image: 'shop/config:v1',
                env: [
                  { name: 'DB_PASSWORD', value: 'hunter2-v2' },
                  { name: 'FEATURE_X', value: 'on' },
                ],
                args: ['--token=s3cret-v2'],
                resources: { limits: { cpu: '500m' } },
              },
            ],
          },
        },
      },
    });
    await fake.settle();
    // The dry runs' alerts start now: in the second after the deploys, as a real alert would.
    await nextWholeSecond();
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
      labels: { severity: 'critical', namespace: 'shop', deployment: 'api' },
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

  test('changes.fields lists non-image changes; env values and args by name only', async () => {
    const r = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: 'shop', deployment: 'config' },
    });
    const [p] = r.body.plans;
    assert.equal(p.execution.action, 'rollback', p.execution.reason);
    assert.deepEqual(p.changes.images, []);
    assert.deepEqual(p.changes.fields, [
      {
        path: 'metadata.annotations["example.com/owner"]',
        change: 'removed',
        from: 'team-b',
      },
      { path: 'spec.containers[config].args', change: 'removed' },
      { path: 'spec.containers[config].env[DB_PASSWORD]', change: 'removed' },
      { path: 'spec.containers[config].env[FEATURE_X]', change: 'removed' },
      { path: 'spec.containers[config].resources.limits.cpu', change: 'removed', from: '500m' },
    ]);
    const text = JSON.stringify(r.body);
    for (const secret of ['hunter2', 's3cret', '"on"']) assert.ok(!text.includes(secret), secret);
  });

  test('a revision older than policy.maxRevisionAgeSeconds is not blamed; the dry run says so', async () => {
    // The alert started two days after v2 was deployed (default limit: one day).
    const startsAt = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const r = await s.request(
      'POST',
      'test',
      payload([firing('CriticalErrorRate', 'api', { startsAt })]),
    );
    const [p] = r.body.plans;
    assert.equal(p.execution.action, 'skip');
    assert.match(
      p.execution.reason,
      /^revision 2 has been running since \S+, 2 days before the alert: the deploy is unlikely to be the cause \(policy\.maxRevisionAgeSeconds: 86400\)$/,
    );
  });

  test('a workload that does not exist is reported, not planned', async () => {
    const r = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: 'shop', deployment: 'ghost' },
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
      // Unauthenticated readiness says only that; the reason is on the authenticated status.
      assert.equal(body.checks['kubernetes'], 'unavailable');
      const status = await s.request('GET', 'status');
      assert.equal(status.body.executors.kubernetes.available, false);
      assert.match(status.body.executors.kubernetes.reason, /^KUBECONFIG names no existing file/);
      const plan = await s.request('POST', 'test', {
        alert_name: 'CriticalErrorRate',
        labels: { severity: 'critical', namespace: 'shop', deployment: 'api' },
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
            labels: {
              alertname: 'CriticalErrorRate',
              severity: 'critical',
              namespace: 'shop',
              deployment: 'api',
            },
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

async function mergePatch(fake: FakeKube, ns: string, name: string, body: unknown): Promise<void> {
  const res = await fetch(`${fake.url}/apis/apps/v1/namespaces/${ns}/deployments/${name}`, {
    method: 'PATCH',
    headers: {
      'content-type': 'application/merge-patch+json',
      authorization: `Bearer ${fakeKubeToken}`,
    },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}
