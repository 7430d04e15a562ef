// Prometheus with Kubernetes service discovery (built by test/node/build-prometheus.sh) against
// the real API server, with the scrape config the node suite's alert loop uses: it watches the
// pods of one namespace as a ServiceAccount that may only read that namespace, keeps the annotated
// ones, scrapes them on their annotated port, and forgets a deleted pod. The control plane has no
// real node, so the scraped pod is bound to a Node no simulated kubelet serves and its status
// (pod IP 127.0.0.1, where this test serves its metrics) is written by the test, as a kubelet would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtPrometheus } from '../support/built-prometheus.js';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { kubernetesPodScrapeConfig } from '../support/kubernetes-pod-scrape-config.js';
import { close, listen } from '../support/loopback-server.js';
import { startPrometheus, type Prometheus } from '../support/prometheus.js';
import { until } from '../support/until.js';

const NS = 'sd-shop';
const OTHER_NS = 'sd-elsewhere';
const NODE = 'test-owned-node';
let cluster: KubeCluster;
let prometheus: Prometheus | undefined;
let app: Server;
let appPort: string;
let dir: string;

before(async () => {
  cluster = await startKubeCluster();
  dir = mkdtempSync(join(tmpdir(), 'rc-prom-sd-'));
  app = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(req.url === '/metrics' ? '# TYPE demo_app_errors gauge\ndemo_app_errors 0\n' : 'ok\n');
  });
  appPort = new URL(await listen(app)).port;
  await cluster.createNamespace(NS);
  await cluster.createNamespace(OTHER_NS);
  // A Node object for the pod this test plays the kubelet of (PodGC deletes pods of unknown nodes).
  await cluster.http.ok('POST', '/api/v1/nodes', { metadata: { name: NODE } });
});
after(async () => {
  await prometheus?.stop();
  if (app) await close(app);
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pod(ns: string, name: string, o: { annotated: boolean; nodeName?: string }): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { app: 'checkout' },
      ...(o.annotated
        ? { annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': appPort } }
        : {}),
    },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      containers: [
        { name: 'app', image: 'checkout:v1', ports: [{ name: 'http', containerPort: 8080 }] },
      ],
    },
  };
}

interface Targets {
  activeTargets: Array<{
    discoveredLabels: Record<string, string>;
    labels: Record<string, string>;
    health: string;
    lastError: string;
    scrapeUrl: string;
  }>;
  droppedTargets: Array<{ discoveredLabels: Record<string, string> }>;
}

async function targets(): Promise<Targets> {
  const res = await fetch(`${prometheus!.url}/api/v1/targets`, {
    signal: AbortSignal.timeout(5000),
  });
  return ((await res.json()) as { data: Targets }).data;
}

describe('Prometheus kubernetes_sd_configs on the real API server', () => {
  test('discovers the annotated pod with its __meta_kubernetes_* labels, scrapes it, drops the rest, forgets it when deleted', async () => {
    const binary = builtPrometheus();
    // The pod to scrape: bound to the test's node, Running and Ready at 127.0.0.1.
    await cluster.http.ok(
      'POST',
      `/api/v1/namespaces/${NS}/pods`,
      pod(NS, 'checkout-scraped', { annotated: true, nodeName: NODE }),
    );
    const now = new Date().toISOString();
    await cluster.http.ok(
      'PATCH',
      `/api/v1/namespaces/${NS}/pods/checkout-scraped/status`,
      {
        status: {
          phase: 'Running',
          podIP: '127.0.0.1',
          podIPs: [{ ip: '127.0.0.1' }],
          hostIP: '127.0.0.1',
          startTime: now,
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
        },
      },
      'application/merge-patch+json',
    );
    // Not annotated (a simulated kubelet gives it an IP): discovered, then dropped by relabelling.
    await cluster.http.ok(
      'POST',
      `/api/v1/namespaces/${NS}/pods`,
      pod(NS, 'checkout-unannotated', { annotated: false }),
    );
    // Annotated, but in a namespace outside the job's: never discovered.
    await cluster.http.ok(
      'POST',
      `/api/v1/namespaces/${OTHER_NS}/pods`,
      pod(OTHER_NS, 'checkout-elsewhere', { annotated: true }),
    );

    prometheus = await startPrometheus({
      binary,
      scrapeTargets: [],
      scrapeConfigs: [
        await kubernetesPodScrapeConfig(cluster, { jobName: 'demo-app', namespace: NS, dir }),
      ],
    });

    let seen: Targets | undefined;
    await until(
      async () => {
        seen = await targets();
        return (
          seen.activeTargets.some((t) => t.health === 'up') &&
          seen.droppedTargets.some(
            (t) => t.discoveredLabels['__meta_kubernetes_pod_name'] === 'checkout-unannotated',
          )
        );
      },
      120_000,
      'the annotated pod scraped (health up) and the other one dropped',
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}\ntargets: ${JSON.stringify(seen)}\nprometheus:\n${prometheus?.logs.slice(-20).join('\n')}`,
      );
    });

    const active = seen!.activeTargets;
    assert.equal(active.length, 1, JSON.stringify(active));
    const target = active[0];
    assert.equal(target.scrapeUrl, `http://127.0.0.1:${appPort}/metrics`);
    assert.deepEqual(
      {
        job: target.labels['job'],
        instance: target.labels['instance'],
        namespace: target.labels['namespace'],
        deployment: target.labels['deployment'],
        pod: target.labels['pod'],
      },
      {
        job: 'demo-app',
        instance: `127.0.0.1:${appPort}`,
        namespace: NS,
        deployment: 'checkout',
        pod: 'checkout-scraped',
      },
    );
    const meta = target.discoveredLabels;
    assert.equal(meta['__meta_kubernetes_namespace'], NS);
    assert.equal(meta['__meta_kubernetes_pod_name'], 'checkout-scraped');
    assert.equal(meta['__meta_kubernetes_pod_ip'], '127.0.0.1');
    assert.equal(meta['__meta_kubernetes_pod_node_name'], NODE);
    assert.equal(meta['__meta_kubernetes_pod_phase'], 'Running');
    assert.equal(meta['__meta_kubernetes_pod_ready'], 'true');
    assert.equal(meta['__meta_kubernetes_pod_label_app'], 'checkout');
    assert.equal(meta['__meta_kubernetes_pod_annotation_prometheus_io_port'], appPort);
    assert.equal(meta['__meta_kubernetes_pod_container_name'], 'app');
    assert.equal(meta['__meta_kubernetes_pod_container_port_number'], '8080');
    assert.equal(meta['__address__'], '127.0.0.1:8080');
    const all = JSON.stringify(seen);
    assert.ok(!all.includes(OTHER_NS), `nothing from ${OTHER_NS}: ${all}`);

    // The scraped series carries the target's labels (what the loop's alert rule groups by).
    const series = await prometheus.query('demo_app_errors');
    assert.deepEqual(
      series.map((s) => [s.metric['namespace'], s.metric['deployment'], s.metric['pod']]),
      [[NS, 'checkout', 'checkout-scraped']],
    );

    // Discovery follows the API server's watch: a deleted pod's target goes away.
    await cluster.http.ok('DELETE', `/api/v1/namespaces/${NS}/pods/checkout-scraped`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      gracePeriodSeconds: 0,
    });
    await until(
      async () => (await targets()).activeTargets.length === 0,
      120_000,
      'the deleted pod no longer a target',
    );
  });
});
