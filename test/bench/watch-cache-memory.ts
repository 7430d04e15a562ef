// The watch cache's memory on the real control plane: 1,000 Deployments (replicas 0, so no pods)
// each rolled out ten times by the real deployment controller (ten ReplicaSets each, the default
// revisionHistoryLimit keeps them all), in ten namespaces. The controller (dist/main.js, a
// cluster-wide identity, allowedNamespaces ['*']) runs once with the cache and once with
// `watchCache.enabled: false`; each idles 3 s after it is ready (and, with the cache, after it
// logged "watch cache synced") before its RSS is read.
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { controllerIdentity } from '../cluster/support.js';
import { chartMemory } from '../support/chart-memory.js';
import { startController, type ControllerProcess } from './controller-process.js';

export interface WatchCacheMemory {
  deployments: number;
  replicaSets: number;
  /** Objects the cache holds (its log line). */
  cachedObjects: number;
  /** Controller start → "watch cache synced", ms. */
  syncMs: number;
  rssCached: number;
  peakCached: number;
  /** With the cache under the chart's NODE_OPTIONS (NaN: it did not survive). */
  rssChartFlags: number;
  chartFlags: string[];
  /** With the default watchCache.maxObjects (the cache turns itself off above it). */
  rssDefaultBound: number;
  rssUncached: number;
  /** Creating the objects, ms. */
  setupMs: number;
}

const NAMESPACES = 10;

async function pool<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function countReplicaSets(cluster: KubeCluster): Promise<number> {
  const r = await cluster.http.ok('GET', '/apis/apps/v1/replicasets?limit=1');
  return (r.items?.length ?? 0) + (r.metadata?.remainingItemCount ?? 0);
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function idleRss(c: ControllerProcess, logLine?: RegExp): Promise<string> {
  let line = '';
  if (logLine)
    await waitFor(
      'the watch cache to sync',
      async () => {
        line =
          c
            .log()
            .split('\n')
            .find((l) => logLine.test(l)) ?? '';
        return line !== '';
      },
      300_000,
    );
  await new Promise((r) => setTimeout(r, 3000));
  return line;
}

export async function measureWatchCacheMemory(
  deployments: number,
  revisions: number,
  log: (line: string) => void,
): Promise<WatchCacheMemory> {
  const cluster = await startKubeCluster({ nodes: ['bench-node'] });
  try {
    const t0 = performance.now();
    const names = Array.from({ length: deployments }, (_, i) => ({
      ns: `mem-${i % NAMESPACES}`,
      name: `svc-${i}`,
    }));
    for (let n = 0; n < NAMESPACES; n++) await cluster.createNamespace(`mem-${n}`);
    await pool(names, 16, ({ ns, name }) =>
      cluster.createWorkload('Deployment', ns, name, { image: `shop/${name}:v1`, replicas: 0 }),
    );
    // One revision at a time: the deployment controller makes a ReplicaSet only for a template it
    // sees, so each round waits for all of them.
    for (let v = 1; v <= revisions; v++) {
      if (v > 1)
        await pool(names, 16, ({ ns, name }) =>
          cluster.setImage('Deployment', ns, name, `shop/${name}:v${v}`),
        );
      await waitFor(
        `${deployments * v} ReplicaSets`,
        async () => (await countReplicaSets(cluster)) >= deployments * v,
        600_000,
      );
      log(`${deployments * v} ReplicaSets`);
    }
    const setupMs = performance.now() - t0;
    const replicaSets = await countReplicaSets(cluster);
    const { kubeconfig } = await controllerIdentity(cluster, 'rc-memory');

    const big = 'watchCache: { maxObjects: 1000000 }';
    const run = async (config: string, nodeFlags: string[], logLine?: RegExp) => {
      const startedAt = Date.now();
      const c = await startController({ kubeconfig, config, nodeFlags, readyTimeoutMs: 60_000 });
      try {
        const line = await idleRss(c, logLine);
        const synced = line ? (JSON.parse(line) as { time: number; objects?: number }) : undefined;
        return {
          rss: c.rss(),
          peak: c.peakRss(),
          syncMs: synced ? synced.time - startedAt : NaN,
          objects: synced?.objects ?? NaN,
        };
      } finally {
        await c.stop();
      }
    };
    const cached = await run(big, [], /watch cache synced/);
    log(`with the cache: ${(cached.rss / 2 ** 20).toFixed(0)} MiB`);
    const chartFlags = chartMemory().nodeFlags;
    const capped = await run(big, chartFlags, /watch cache synced/).catch(() => undefined);
    const bounded = await run('', [], /watch cache synced|turned off/);
    const uncached = await run('watchCache: { enabled: false }', []);
    return {
      deployments,
      replicaSets,
      cachedObjects: cached.objects,
      syncMs: cached.syncMs,
      rssCached: cached.rss,
      peakCached: cached.peak,
      rssChartFlags: capped?.rss ?? NaN,
      chartFlags,
      rssDefaultBound: bounded.rss,
      rssUncached: uncached.rss,
      setupMs,
    };
  } finally {
    await cluster.stop();
  }
}
