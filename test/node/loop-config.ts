// The monitoring side of the node suite's alert loop: how Prometheus finds the demo app (pod
// discovery through the API server), the alert rule on its error metric, and the README's
// Alertmanager receiver pointed at the controller's Service, with test-sized timers.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startAlertmanager, type Alertmanager } from '../support/alertmanager.js';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import { startPrometheus, type Prometheus } from '../support/prometheus.js';
import { WEBHOOK_SECRET } from './support.js';

/** Pods of `namespace` annotated prometheus.io/scrape, labelled with their namespace and app. */
export function demoScrapeConfig(kubeconfigFile: string, namespace: string): object {
  return {
    job_name: 'demo-app',
    kubernetes_sd_configs: [
      { role: 'pod', kubeconfig_file: kubeconfigFile, namespaces: { names: [namespace] } },
    ],
    relabel_configs: [
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
        regex: 'true',
        action: 'keep',
      },
      {
        source_labels: [
          '__meta_kubernetes_pod_ip',
          '__meta_kubernetes_pod_annotation_prometheus_io_port',
        ],
        regex: '(.+);(.+)',
        replacement: '$1:$2',
        target_label: '__address__',
      },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_label_app'], target_label: 'deployment' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    ],
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
): Promise<{ prometheus: Prometheus; alertmanager: Alertmanager }> {
  await cluster.http.ok('POST', '/api/v1/namespaces', { metadata: { name: 'monitoring' } });
  await cluster.http.ok('POST', '/api/v1/namespaces/monitoring/serviceaccounts', {
    metadata: { name: 'prometheus' },
  });
  await cluster.http.ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'prometheus-view' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' }],
  });
  const kubeconfig = await cluster.serviceAccountKubeconfig('monitoring', 'prometheus');
  const passwordFile = join(dir, 'webhook-secret');
  writeFileSync(passwordFile, WEBHOOK_SECRET, { mode: 0o600 });
  const webhookUrl = `${service}/api/admin/rollback/trigger`;
  const alertmanager = await startAlertmanager({
    webhookUrl,
    configText: readmeReceiverConfig(webhookUrl, passwordFile),
  });
  try {
    const prometheus = await startPrometheus({
      scrapeTargets: [],
      scrapeConfigs: [demoScrapeConfig(kubeconfig, namespace)],
      ruleFiles: { 'demo.rules.yml': demoAlertRule() },
      alertmanagers: [alertmanager.url.replace(/^http:\/\//, '')],
      interval: '1s',
    });
    return { prometheus, alertmanager };
  } catch (e) {
    await alertmanager.stop();
    throw e;
  }
}
