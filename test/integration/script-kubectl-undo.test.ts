// The shipped kubectl-rollout-undo.sh, run by the controller as a script job against the fake
// cluster with the real kubectl: pinned to the revisions recorded when the alert arrived.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube } from '../support/fake-kube/index.js';
import type { FakeKube } from '../support/fake-kube/types.js';
import { until } from '../support/until.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { kubectlPath } from '../support/tools.js';

const CONFIG = `
scriptsDir: ${resolve('rollback-scripts')}
rules:
  - alert: CheckoutBroken
    trigger: error_rate_threshold
    confidence: high
    script: { path: kubectl-rollout-undo.sh, args: ["--check-from-revision", "--timeout", "30s"], timeoutSeconds: 60 }
rollout: { pollIntervalSeconds: 0.05 }
`;

describe('script job: pinned kubectl rollout undo', () => {
  let fake: FakeKube;
  let s: TestServer;
  const home = mkdtempSync(join(tmpdir(), 'rc-home-'));
  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 10 });
    await fake.createDeployment('shop', 'checkout', { image: 'shop/checkout:v1', replicas: 2 });
    await fake.settle();
    await fake.setImage('Deployment', 'shop', 'checkout', 'shop/checkout:v2');
    await fake.settle();
    s = await startTestServer({
      configText: CONFIG,
      env: {
        KUBECONFIG: fake.kubeconfigPath,
        KUBECTL: kubectlPath(),
        PATH: process.env['PATH'],
        HOME: home,
      },
    });
  });
  after(async () => {
    await s.close();
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('the script receives the pinned revisions and the Deployment goes back to v1', async () => {
    // The alert starts a second after v2 went out: an API time within the alert's own second
    // counts as possibly after it, and an unpinned script is refused.
    const startsAt = new Date(Date.now() + 1000).toISOString();
    const r = await s.request(
      'POST',
      'trigger',
      payload([firing('CheckoutBroken', 'checkout', { startsAt })]),
    );
    assert.equal(r.body.decisions[0].decision, 'queued');
    const id = r.body.decisions[0].jobId as string;
    let job: any;
    await until(
      async () => {
        job = (await s.request('GET', `jobs/${id}`)).body;
        return ['succeeded', 'failed', 'skipped'].includes(job.state);
      },
      60_000,
      'the script job finished',
    );
    assert.equal(
      job.state,
      'succeeded',
      `${job.reason}\n${job.scriptResult?.outputTail}\n${JSON.stringify(job.timeline)}`,
    );
    assert.equal(job.executor, 'script');
    assert.equal(job.fromRevision, 2);
    assert.equal(job.toRevision, 1);
    assert.equal(job.scriptResult.exitCode, 0);
    assert.match(
      job.scriptResult.outputTail,
      /rolling back deployment\/checkout in shop to revision 1/,
    );
    assert.match(job.scriptResult.outputTail, /successfully rolled out/);
    const d = fake.get('Deployment', 'shop', 'checkout');
    assert.equal(d.spec.template.spec.containers[0].image, 'shop/checkout:v1');
  });
});
