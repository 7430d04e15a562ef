// The monitoring side of the node suite's alert loop: how Prometheus finds the demo app (its own
// Kubernetes service discovery against the API server: a Prometheus built with kubernetes_sd by
// test/node/build-prometheus.sh), the alert rule on its error metric, and the README's
// Alertmanager receiver pointed at the controller's Service, with test-sized timers.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startAlertmanager, type Alertmanager } from '../support/alertmanager.js';
import { builtPrometheus } from '../support/built-prometheus.js';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import { kubernetesPodScrapeConfig } from '../support/kubernetes-pod-scrape-config.js';
import { startPrometheus, type Prometheus } from '../support/prometheus.js';
import { chartValues, WEBHOOK_SECRET } from './support.js';

/**
 * The chart's values for the loop: the built image, Slack to the sink, and one rule that rolls
 * back on the demo app's alert (high confidence, automatic) and verifies for 10 minutes.
 */
export function loopChartValues(image: string, namespace: string, slackUrl: string): object {
  return chartValues({
    image,
    namespaces: [namespace],
    slackUrl,
    config: {
      rules: [
        {
          alert: 'DemoAppErrors',
          trigger: 'error_rate_threshold',
          confidence: 'high',
          autoRollback: true,
        },
      ],
      verification: { windowSeconds: 600 },
    },
  });
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
 * Prometheus (kubernetes_sd_configs, role pod: `namespace`'s pods annotated prometheus.io/scrape,
 * watched with its own ServiceAccount bound to the `view` ClusterRole there) and Alertmanager (the
 * README receiver, to the controller's Service `service`), both on the host.
 */
export async function startDemoMonitoring(
  cluster: KubeCluster,
  dir: string,
  service: string,
  namespace: string,
): Promise<{ prometheus: Prometheus; alertmanager: Alertmanager; stop(): Promise<void> }> {
  const binary = builtPrometheus();
  const scrapeConfig = await kubernetesPodScrapeConfig(cluster, {
    jobName: 'demo-app',
    namespace,
    dir,
  });
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
      binary,
      scrapeConfigs: [scrapeConfig],
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
      },
    };
  } catch (e) {
    await alertmanager.stop();
    throw e;
  }
}
