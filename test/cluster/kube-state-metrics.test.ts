// The dashboard's change-failure panels count deploys with kube-state-metrics, never with the
// controller: the real exporter (built from the Go module proxy by build-kube-state-metrics.sh,
// cached under .tools/) watches the real control plane, the real Prometheus scrapes it and the
// controller, and the panels' own queries count two deploys (a ReplicaSet per new template) and
// one rolled-back workload (a rollback reuses the old ReplicaSet: it is not a deploy).
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { buildScriptOutput } from '../support/build-script-output.js';
import { loadDashboard, panelQueries, substitute } from '../support/dashboard.js';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { freePort, spawnDaemon, startPrometheus, type Daemon } from '../support/prometheus.js';
import { until } from '../support/until.js';
import {
  alertAndWait,
  controllerIdentity,
  deployedTwice,
  FAST_CONFIG,
  startController,
  type RunningController,
} from './support.js';

const CLUSTER = 'us-1';
const BUILD = resolve(import.meta.dirname, 'build-kube-state-metrics.sh');

let cluster: KubeCluster;
let controller: RunningController | undefined;
let ksm: Daemon | undefined;
let started: number;

before(async () => {
  started = Date.now();
  cluster = await startKubeCluster();
  await cluster.createNamespace('shop');
});
after(async () => {
  await ksm?.stop();
  await controller?.close();
  await cluster?.stop();
});

test('the change-failure panels read deploys from the real kube-state-metrics', async () => {
  const port = await freePort();
  ksm = await spawnDaemon(
    buildScriptOutput(BUILD, 'kube-state-metrics'),
    [
      `--kubeconfig=${cluster.kubeconfigPath}`,
      '--resources=replicasets',
      '--host=127.0.0.1',
      `--port=${port}`,
      '--telemetry-host=127.0.0.1',
      `--telemetry-port=${await freePort()}`,
    ],
    {
      debianPackage: 'none (bash test/cluster/build-kube-state-metrics.sh)',
      readyUrl: `http://127.0.0.1:${port}/livez`,
      timeoutMs: 60_000,
    },
  );
  const { kubeconfig } = await controllerIdentity(cluster, 'rc-ksm');
  controller = await startController({
    kubeconfig,
    config: `${FAST_CONFIG}\ncluster: { name: ${CLUSTER} }`,
  });
  const prometheus = await startPrometheus({
    scrapeTargets: [new URL(controller.url).host, `127.0.0.1:${port}`],
    targetLabels: { cluster: CLUSTER },
    honorLabels: true,
  });
  try {
    // Two deploys (v1, then v2), and the rollback of the second.
    await deployedTwice(cluster, 'Deployment', 'shop', 'api');
    const job = await alertAndWait(controller, 'Deployment', 'shop', 'api');
    assert.equal(job.state, 'succeeded', JSON.stringify(job));

    const scalar = async (expr: string) => Number((await prometheus.query(expr))[0]?.value[1]);
    await until(
      async () =>
        (await scalar(`count(kube_replicaset_created{cluster="${CLUSTER}", namespace="shop"})`)) ===
          2 && (await scalar(`count(rollback_last_rollback_info{cluster="${CLUSTER}"})`)) === 1,
      60_000,
      'Prometheus scraped both ReplicaSets from kube-state-metrics and the rollback',
    );

    const seconds = Math.ceil((Date.now() - started) / 1000) + 5;
    const values: Record<string, number[]> = {};
    for (const q of panelQueries(loadDashboard()).filter((q) => q.expr.includes('kube_'))) {
      const expr = substitute(q.expr, { cluster: CLUSTER, workloadNamespace: 'shop', seconds });
      values[q.panel] = (await prometheus.query(expr)).map((r) => Number(r.value[1]));
    }
    assert.deepEqual(values, {
      'Deploys (kube-state-metrics)': [2],
      'Change failure rate': [0.5],
      'Deploys and rollbacks': [2],
    });
  } finally {
    await prometheus.stop();
  }
});
