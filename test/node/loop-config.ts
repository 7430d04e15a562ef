// The monitoring side of the node suite's alert loop: how Prometheus finds the demo app (pod
// discovery through the API server), the alert rule on its error metric, and the README's
// Alertmanager receiver pointed at the controller's Service, with test-sized timers.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startAlertmanager, type Alertmanager } from '../support/alertmanager.js';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import { startPrometheus, type Prometheus } from '../support/prometheus.js';
import { WEBHOOK_SECRET } from './support.js';

/**
 * Debian's Prometheus (2.42+ds) is built without kubernetes_sd_configs, so the pods are
 * discovered through the API server by this small HTTP SD endpoint instead: the pods of
 * `namespace` annotated prometheus.io/scrape, with a pod IP, labelled as kubernetes_sd plus
 * relabelling would label them (namespace, deployment from the `app` label, pod).
 */
export async function startPodDiscovery(
  cluster: KubeCluster,
  namespace: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    void (async () => {
      const list = await cluster.http.ok('GET', `/api/v1/namespaces/${namespace}/pods`);
      const groups = (list.items as any[])
        .filter(
          (p) =>
            p.metadata.annotations?.['prometheus.io/scrape'] === 'true' &&
            p.status?.podIP &&
            !p.metadata.deletionTimestamp,
        )
        .map((p) => ({
          targets: [`${p.status.podIP}:${p.metadata.annotations['prometheus.io/port'] ?? '8080'}`],
          labels: {
            namespace,
            deployment: String(p.metadata.labels?.app ?? ''),
            pod: String(p.metadata.name),
          },
        }));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(groups));
    })().catch(() => {
      res.statusCode = 503;
      res.end('[]');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/targets`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

export function demoScrapeConfig(discoveryUrl: string): object {
  return {
    job_name: 'demo-app',
    http_sd_configs: [{ url: discoveryUrl, refresh_interval: '1s' }],
  };
}

/** Fires while any pod of a deployment reports errors; `deployment` names the rollback target. */
export function demoAlertRule(): string {
  return stringify({
    groups: [
      {
        name: 'demo-app',
        rules: [
          {
            alert: 'DemoAppErrors',
            expr: 'max by (namespace, deployment) (demo_app_errors) > 0',
            labels: { severity: 'critical' },
            annotations: { summary: 'the demo app reports errors' },
          },
        ],
      },
    ],
  });
}

const RECEIVER_EXAMPLE = resolve(
  import.meta.dirname,
  '../fixtures/alertmanager/receiver-example.yml',
);

/**
 * README.md's receiver example (its copy in test/fixtures, which the e2e suite keeps identical),
 * with the controller's URL and password file of this run, and second-sized group timers.
 */
export function readmeReceiverConfig(webhookUrl: string, passwordFile: string): string {
  let text = readFileSync(RECEIVER_EXAMPLE, 'utf8');
  const swaps: Array<[RegExp, string]> = [
    [
      /url: http:\/\/rollback-controller\.monitoring\.svc:8080\/api\/admin\/rollback\/trigger/,
      `url: ${webhookUrl}`,
    ],
    [/password_file: \S+/, `password_file: ${passwordFile}`],
    [/group_wait: \S+/, 'group_wait: 1s'],
    [/group_interval: \S+/, 'group_interval: 2s'],
  ];
  for (const [from, to] of swaps) {
    if (!from.test(text))
      throw new Error(
        `the README receiver example has no ${from}: update ${RECEIVER_EXAMPLE}'s use here`,
      );
    text = text.replace(from, to);
  }
  return text;
}

/**
 * Prometheus (discovering `namespace`'s pods with its own ServiceAccount, `view` ClusterRole) and
 * Alertmanager (the README receiver, to the controller's Service `service`), both on loopback.
 */
export async function startDemoMonitoring(
  cluster: KubeCluster,
  dir: string,
  service: string,
  namespace: string,
): Promise<{ prometheus: Prometheus; alertmanager: Alertmanager; stop(): Promise<void> }> {
  const discovery = await startPodDiscovery(cluster, namespace);
  const passwordFile = join(dir, 'webhook-secret');
  writeFileSync(passwordFile, WEBHOOK_SECRET, { mode: 0o600 });
  const webhookUrl = `${service}/api/admin/rollback/trigger`;
  const alertmanager = await startAlertmanager({
    webhookUrl,
    passwordFile,
    configText: readmeReceiverConfig(webhookUrl, passwordFile),
  });
  try {
    const prometheus = await startPrometheus({
      scrapeTargets: [],
      scrapeConfigs: [demoScrapeConfig(discovery.url)],
      ruleFiles: { 'demo.rules.yml': demoAlertRule() },
      alertmanagers: [alertmanager.url.replace(/^http:\/\//, '')],
      interval: '1s',
    });
    return {
      prometheus,
      alertmanager,
      async stop() {
        await prometheus.stop();
        await alertmanager.stop();
        await discovery.close();
      },
    };
  } catch (e) {
    await alertmanager.stop();
    await discovery.close();
    throw e;
  }
}
