// The Kubernetes API misbehaving under a real controller: 500s, 409s, calls that time out but
// land anyway, dropped connections and the API going away mid-rollout. Each job ends succeeded
// after retries or failed with a clear reason, and no workload is ever patched twice (applied
// PATCHes are counted by a recording proxy that sees the answer the API really gave).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js';
import { connectKube } from '../../src/kube/connect-kube.js';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';
import { deployedTwice, image, jobIn, startsNow } from './support/cluster.js';
import { Figures } from './support/figures.js';
import { startKubeProxy, type KubeProxy, type ProxiedRequest } from './support/kube-proxy.js';

const figures = new Figures('kube-faults');
const NS = 'shop';
// Test-sized timings for the real executor: a 1 s request timeout, six attempts with backoff
// of about 1.3-2.5 s in total (production: 10 s, five attempts).
const REQUEST_TIMEOUT_MS = 1000;

describe('Kubernetes API faults during real rollbacks', () => {
  let fake: FakeKube;
  let proxy: KubeProxy;
  let s: TestServer;

  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 10 });
    proxy = await startKubeProxy(fake.url);
    const kube = connectKube({
      env: { KUBECONFIG: proxy.kubeconfigPath },
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    const kubernetes = createKubernetesExecutor(kube, {
      optOutAnnotation: 'rollback-controller.io/disabled',
      pollIntervalMs: 50,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 1000 },
    });
    s = await startTestServer({
      executors: { kubernetes },
      configText: [
        'rollout: { pollIntervalSeconds: 0.05, deadlineSeconds: 30 }',
        'policy: { circuitBreaker: { maxRollbacks: 100 } }',
      ].join('\n'),
    });
  });
  after(async () => {
    proxy.onRequest = undefined;
    proxy.onResponse = undefined;
    await s.close();
    await proxy.close();
    await fake.close();
  });

  /**
   * Fires CriticalErrorRate for `name`: answered 202 and queued whatever the API does. Returns
   * the job id and how long the 202 took (a figure: speed is for the benchmarks to judge).
   */
  async function fire(name: string): Promise<{ jobId: string; ms: number }> {
    const t0 = performance.now();
    const r = await s.request(
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', name, { startsAt: startsNow() })]),
    );
    const ms = performance.now() - t0;
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.decisions[0].decision, 'queued', r.body.decisions[0].reason);
    return { jobId: r.body.decisions[0].jobId as string, ms };
  }

  function attempts(name: string): number {
    return proxy.log.filter((r) => r.method === 'PATCH' && !r.dryRun && r.path.endsWith(`/${name}`))
      .length;
  }

  /** Resolves once the job patched `name` and is reading its rollout status. */
  async function following(name: string): Promise<void> {
    const isPatch = (r: ProxiedRequest) =>
      r.method === 'PATCH' && !r.dryRun && r.path.endsWith(`/${name}`) && r.status === 200;
    await until(
      () => {
        const i = proxy.log.findIndex(isPatch);
        return (
          i >= 0 &&
          proxy.log.slice(i + 1).some((r) => r.method === 'GET' && r.path.endsWith(`/${name}`))
        );
      },
      10_000,
      `the job following the rollout of ${name}`,
    );
  }

  async function succeeded(scenario: string, name: string, jobId: string, t0: number) {
    const job = await jobIn(s.request, jobId, ['succeeded', 'failed', 'skipped'], 20_000);
    const ms = performance.now() - t0;
    assert.equal(job.state, 'succeeded', job.reason);
    assert.equal(image(fake, NS, name), `${NS}/${name}:v1`, 'rolled back to v1');
    assert.equal(proxy.appliedPatches(name), 1, 'exactly one PATCH changed the workload');
    const last = JSON.parse(
      fake.get('Deployment', NS, name).metadata.annotations['rollback-controller.io/last-rollback'],
    );
    assert.equal(last.jobId, jobId);
    figures.add(scenario, 'outcome', job.state);
    figures.add(scenario, 'PATCH attempts / applied', `${attempts(name)} / 1`);
    figures.add(scenario, 'alert → finished', ms, 'ms');
    return job;
  }

  test('500s on reads and on the patch: retried, succeeded, one applied patch', async () => {
    await deployedTwice(fake, NS, 'f500');
    const path = /\/deployments\/f500$/;
    fake.injectFault({ method: 'GET', path, status: 500, times: 3 });
    fake.injectFault({ method: 'PATCH', path, status: 500, times: 3 });
    const t0 = performance.now();
    const { jobId, ms } = await fire('f500');
    figures.add('500s on GET and PATCH', '202 answered in', ms, 'ms');
    await succeeded('500s on GET and PATCH', 'f500', jobId, t0);
    const answered500 = proxy.log.filter((r) => path.test(r.path) && r.status === 500).length;
    assert.equal(answered500, 6, 'every injected 500 was met and retried past');
  });

  test('409 Conflict on the real patch: re-read, re-patched once', async () => {
    await deployedTwice(fake, NS, 'f409');
    const path = /\/deployments\/f409$/;
    // The conflicts hit the real PATCH (never a server-side dry run before it).
    fake.injectFault({ method: 'PATCH', path, dryRun: false, status: 409, times: 2 });
    const t0 = performance.now();
    const { jobId } = await fire('f409');
    await succeeded('409 on the real PATCH', 'f409', jobId, t0);
    assert.equal(
      proxy.log.filter((r) => path.test(r.path) && r.status === 409).length,
      2,
      'both conflicts were answered',
    );
  });

  test('a patch that times out on the client but lands: not patched again', async () => {
    await deployedTwice(fake, NS, 'slow');
    const path = /\/deployments\/slow$/;
    // The real PATCH lands 300 ms after the client gave up on it...
    fake.injectFault({
      method: 'PATCH',
      path,
      dryRun: false,
      delayMs: REQUEST_TIMEOUT_MS + 300,
      times: 1,
    });
    proxy.onRequest = (r) => {
      if (r.method === 'PATCH' && !r.dryRun && path.test(r.path)) {
        // ...and the retry's re-read sees the cluster after that.
        proxy.onRequest = undefined;
        fake.injectFault({ method: 'GET', path, delayMs: 700, times: 1 });
      }
    };
    const t0 = performance.now();
    const { jobId } = await fire('slow');
    const job = await succeeded('PATCH timed out but landed', 'slow', jobId, t0);
    assert.equal(attempts('slow'), 1, 'the retry found its own record and sent no second PATCH');
    assert.equal(job.patched, true);
  });

  test('a patch that lands after the retry already re-patched: refused by its resourceVersion precondition', async () => {
    await deployedTwice(fake, NS, 'late');
    const path = /\/deployments\/late$/;
    // The real PATCH reaches the API server long after the client gave up and the retry
    // re-read the workload and patched it again.
    fake.injectFault({
      method: 'PATCH',
      path,
      dryRun: false,
      delayMs: REQUEST_TIMEOUT_MS * 3,
      times: 1,
    });
    const t0 = performance.now();
    const { jobId } = await fire('late');
    await succeeded('PATCH landed after the retry', 'late', jobId, t0);
    await until(
      () =>
        attempts('late') >= 2 &&
        proxy.log.filter(
          (r) => r.method === 'PATCH' && !r.dryRun && path.test(r.path) && r.status === 422,
        ).length === 1,
      10_000,
      'the late PATCH answered',
    );
    assert.equal(proxy.appliedPatches('late'), 1, 'the late duplicate was refused, not applied');
  });

  test('every connection dropped for a while mid-rollout: the rollout is followed to the end', async () => {
    await deployedTwice(fake, NS, 'drop');
    fake.stickRollouts('Deployment', NS, 'drop', true);
    const t0 = performance.now();
    const { jobId } = await fire('drop');
    await following('drop');
    const from = proxy.log.length;
    fake.injectFault({ dropConnection: true, times: Infinity });
    // The outage lasts until the job has met it a few times, however slowly a busy machine polls.
    await until(
      () => proxy.log.slice(from).filter((r) => r.status === 0).length >= 3,
      20_000,
      'the job meeting dropped connections',
    );
    fake.clearFaults();
    fake.stickRollouts('Deployment', NS, 'drop', false);
    const job = await succeeded('all connections dropped mid-rollout', 'drop', jobId, t0);
    const dropped = proxy.log.slice(from).filter((r) => r.status === 0).length;
    assert.ok(dropped > 0, 'connections were dropped while the job was following the rollout');
    figures.add('all connections dropped mid-rollout', 'requests dropped', dropped);
    assert.ok(
      job.timeline.some((t: { message: string }) =>
        /reading rollout status failed/.test(t.message),
      ),
      'the outage is on the timeline',
    );
  });

  test('the API server goes away mid-rollout and comes back: succeeded, one patch', async () => {
    await deployedTwice(fake, NS, 'gone');
    fake.stickRollouts('Deployment', NS, 'gone', true);
    const t0 = performance.now();
    const { jobId } = await fire('gone');
    await following('gone');
    await proxy.down();
    // Away until the job has been refused and says so on its timeline, not for a fixed time.
    await until(
      async () =>
        (
          (await s.request('GET', `jobs/${jobId}`)).body.timeline as Array<{ message: string }>
        ).some((t) => /ECONNREFUSED|socket|connect/i.test(t.message)),
      20_000,
      'the refused connections on the timeline',
    );
    fake.stickRollouts('Deployment', NS, 'gone', false);
    await proxy.up();
    const job = await succeeded('API away mid-rollout', 'gone', jobId, t0);
    assert.ok(
      job.timeline.some((t: { message: string }) => /ECONNREFUSED|socket|connect/i.test(t.message)),
      'the refused connections are on the timeline',
    );
  });

  test('the API server is away longer than the retries: failed with a clear reason, nothing patched', async () => {
    await deployedTwice(fake, NS, 'away');
    await proxy.down();
    try {
      const t0 = performance.now();
      const { jobId, ms } = await fire('away');
      figures.add('API away for good', '202 answered in', ms, 'ms');
      const job = await jobIn(s.request, jobId, ['succeeded', 'failed', 'skipped'], 20_000);
      assert.equal(job.state, 'failed');
      assert.match(job.reason, /could not read Deployment shop\/away: .*(ECONNREFUSED|connect)/);
      figures.add('API away for good', 'outcome', `${job.state}: ${job.reason}`);
      figures.add('API away for good', 'alert → failed', performance.now() - t0, 'ms');
    } finally {
      await proxy.up();
    }
    assert.equal(proxy.appliedPatches('away'), 0);
    assert.equal(image(fake, NS, 'away'), `${NS}/away:v2`, 'the workload was not touched');
  });
});
