// The watch cache on the real control plane: it answers what a direct read answers, and a cache
// that lags behind the cluster (its watch events held back, as on a slow link) never changes a
// rollback: a plan on a stale workload fails the PATCH's resourceVersion test and is planned again
// from the API server; a history behind its workload is never used. Each decision is compared
// with the one an executor without a cache takes on the same cluster state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectKube } from '../../src/kube/connect-kube.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import type { CacheInformer, WatchCache } from '../../src/kube/watch-cache.js';
import { kubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js';
import { cachedSnapshot } from '../../src/executors/kubernetes/cached-snapshot.js';
import { readSnapshot } from '../../src/executors/kubernetes/read-snapshot.js';
import type { Executor } from '../../src/model/executor.js';
import type { WorkloadRef } from '../../src/model/workload-ref.js';
import { pino } from 'pino';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { until } from '../support/until.js';
import { makeContext, makeJob } from '../integration/kube-executor-helpers.js';
import { clockPast, controllerIdentity, deployedTwice, imageOf } from './support.js';

const NS = 'cache';
const OPTIONS = {
  optOutAnnotation: 'rollback-controller.io/disabled',
  pollIntervalMs: 100,
  retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 200 },
};

let cluster: KubeCluster;
let client: KubeClient;
let cache: WatchCache;
let user: string;
/** Watch paths whose events are held back, and the events held. */
const lagging = new Set<string>();
const held: Array<{ path: string; deliver: () => void }> = [];

/** Holds back the events of the watches whose path ends with one of `resources`. */
function lag(...resources: string[]): () => void {
  for (const r of resources) lagging.add(r);
  return () => {
    for (const r of resources) lagging.delete(r);
    for (const h of held.splice(0)) h.deliver();
  };
}

function laggingInformer(path: string, informer: CacheInformer): CacheInformer {
  const behind = () => [...lagging].some((r) => path.endsWith(`/${r}`));
  return {
    start: () => informer.start(),
    stop: () => informer.stop(),
    latestResourceVersion: () => informer.latestResourceVersion(),
    off: () => {},
    on: ((verb: string, cb: (obj?: unknown) => void) =>
      (informer.on as (v: string, c: (obj?: unknown) => void) => void)(verb, (obj) => {
        if (verb !== 'error' && verb !== 'connect' && behind())
          held.push({ path, deliver: () => cb(obj) });
        else cb(obj);
      })) as CacheInformer['on'],
  };
}

let startCache: NonNullable<
  Extract<ReturnType<typeof connectKube>, { client: unknown }>['watchCache']
>;
let cached: Executor;
let direct: Executor;

before(async () => {
  cluster = await startKubeCluster();
  await cluster.createNamespace(NS);
  const id = await controllerIdentity(cluster, 'rc-cache');
  user = id.user;
  const kube = connectKube({ env: { KUBECONFIG: id.kubeconfig } });
  if (!('client' in kube) || !kube.watchCache) throw new Error('no client');
  client = kube.client;
  startCache = kube.watchCache;
  cache = kube.watchCache({
    allowedNamespaces: [NS],
    allowed: (ns) => ns === NS,
    log: pino({ enabled: false }),
    wrapInformer: laggingInformer,
  });
  assert.equal(await cache.synced(60_000), true, 'every watch listed');
  cached = kubernetesExecutor(client, { ...OPTIONS, cache });
  direct = kubernetesExecutor(client, OPTIONS);
});
after(async () => {
  await cache?.stop();
  client?.close();
  await cluster?.stop();
});

const ref = (kind: WorkloadRef['kind'], name: string): WorkloadRef => ({
  kind,
  namespace: NS,
  name,
});

/** Until the cache answers (a consistent snapshot) exactly what a direct read answers now. */
async function caughtUp(r: WorkloadRef): Promise<void> {
  await until(
    async () => {
      const c = cachedSnapshot(cache, r);
      if (!c) return false;
      try {
        assert.deepEqual(
          { ...c, cached: undefined },
          {
            ...(await readSnapshot(client, r)),
            cached: undefined,
          },
        );
        return true;
      } catch {
        return false;
      }
    },
    60_000,
    `the cache to show ${r.kind} ${r.name} as a direct read does`,
  );
}

/** A human's `kubectl set image`, rolled out, then the clock past its second. */
async function humanDeploys(kind: WorkloadRef['kind'], name: string, image: string) {
  await cluster.kubectl([
    'set',
    'image',
    `${kind.toLowerCase()}/${name}`,
    `${name}=${image}`,
    '-n',
    NS,
  ]);
  await cluster.waitRolledOut(kind, NS, name);
  await clockPast(Math.floor(Date.now() / 1000) * 1000 + 999);
}

/** PATCHes by the controller to the workload that failed (409/422: a precondition). */
const failedPatches = (name: string) =>
  cluster.audit
    .events({ user, verb: 'patch', namespace: NS, name })
    .filter((e) => [409, 422].includes(e.responseStatus?.code ?? 0));

describe('the watch cache on the real control plane', () => {
  test('it answers what a direct read answers, for each kind', async () => {
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) {
      const name = `same-${kind.toLowerCase()}`;
      await deployedTwice(cluster, kind, NS, name);
      await caughtUp(ref(kind, name));
    }
    assert.ok(cache.stats().objects > 0);
  });

  test('a cache behind a deploy plans on the old state: the PATCH fails its test, the rollback is planned again and goes where a direct read says', async () => {
    const name = 'behind';
    const r = ref('Deployment', name);
    await deployedTwice(cluster, 'Deployment', NS, name);
    await caughtUp(r);
    const release = lag('deployments', 'replicasets');
    try {
      await humanDeploys('Deployment', name, `${name}:v3`);
      // The cache still shows v2 current (going back to v1); the cluster runs v3 (back to v2).
      const stale = cachedSnapshot(cache, r);
      assert.equal(imageOf(stale?.workload), `${name}:v2`, 'the cache is behind');
      const job = makeJob(r);
      const plan = await direct.plan(job);
      assert.equal(plan.action, 'rollback', JSON.stringify(plan));
      assert.equal(plan.toRevision, 2);
      const { ctx, updates } = makeContext({ rolloutTimeoutMs: 180_000 });
      const result = await cached.execute(job, ctx);
      assert.equal(result.outcome, 'succeeded', JSON.stringify(result));
      assert.deepEqual(
        updates.filter((u) => u.patched).map((u) => [u.fromRevision, u.toRevision]),
        [[3, 2]],
      );
      assert.equal(imageOf(await cluster.get('Deployment', NS, name)), `${name}:v2`);
      assert.equal(failedPatches(name).length, 1, 'the stale plan was sent and refused');
      assert.equal(cluster.audit.templateWrites({ user, namespace: NS, name }).length, 1);
    } finally {
      release();
    }
  });

  test('a history behind its workload is not used: a human undo renumbers a ReplicaSet the cache has not seen renumbered', async () => {
    const name = 'renumbered';
    const r = ref('Deployment', name);
    await deployedTwice(cluster, 'Deployment', NS, name);
    await humanDeploys('Deployment', name, `${name}:v3`);
    await caughtUp(r);
    const release = lag('replicasets');
    try {
      // v1 → v2 → v3, then the human goes back to v2: its ReplicaSet becomes revision 4.
      await cluster.kubectl(['rollout', 'undo', `deployment/${name}`, '-n', NS]);
      await cluster.waitRolledOut('Deployment', NS, name);
      await clockPast(Math.floor(Date.now() / 1000) * 1000 + 999);
      await until(
        () =>
          cache.workload(r)?.metadata.annotations?.['deployment.kubernetes.io/revision'] === '4',
        60_000,
        'the cached workload at revision 4',
      );
      // Its ReplicaSets, still as before the undo, would make v2 "revision 2" and v1 the previous.
      assert.equal(cachedSnapshot(cache, r), undefined, 'inconsistent: not used');
      const job = makeJob(r);
      const plan = await direct.plan(job);
      const { ctx, updates } = makeContext({ rolloutTimeoutMs: 180_000 });
      const result = await cached.execute(job, ctx);
      const patched = updates.find((u) => u.patched);
      if (plan.action === 'rollback') {
        assert.equal(result.outcome, 'succeeded', JSON.stringify(result));
        assert.equal(patched?.toRevision, plan.toRevision);
        assert.equal(patched?.toRevision, 3);
        assert.equal(imageOf(await cluster.get('Deployment', NS, name)), `${name}:v3`);
      } else {
        assert.equal(result.outcome, 'skipped', JSON.stringify({ plan, result }));
        assert.equal(patched, undefined);
      }
      assert.equal(failedPatches(name).length, 0, 'planned from direct reads');
    } finally {
      release();
    }
  });

  test('more objects than watchCache.maxObjects: the cache turns itself off and answers nothing', async () => {
    const warnings: string[] = [];
    const small = startCache({
      allowedNamespaces: [NS],
      allowed: (ns) => ns === NS,
      maxObjects: 3,
      log: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
    });
    try {
      assert.equal(await small.synced(60_000), false, 'never synced: it stopped');
      assert.deepEqual(small.stats().objects, 0);
      assert.equal(small.workload(ref('Deployment', 'behind')), undefined);
      assert.equal(cachedSnapshot(small, ref('Deployment', 'behind')), undefined);
      assert.match(warnings.join(''), /watchCache\.maxObjects/);
    } finally {
      await small.stop();
    }
  });
});
