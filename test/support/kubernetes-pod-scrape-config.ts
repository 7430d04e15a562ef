// Prometheus' own Kubernetes service discovery against a test cluster's API server, the way a
// cluster's Prometheus finds annotated pods: role `pod` in one namespace, as a ServiceAccount
// that may only read that namespace, keeping the pods annotated `prometheus.io/scrape: "true"` and
// scraping them on their `prometheus.io/port`. Needs a Prometheus built with kubernetes_sd
// (test/node/build-prometheus.sh; Debian's 2.42+ds has none).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeCluster } from './kube-cluster/index.js';

/**
 * Creates the ServiceAccount `serviceAccount` in `namespace` with the `view` ClusterRole bound
 * there (RoleBinding), writes its token (TokenRequest, valid a day: the playground may run long)
 * and the cluster's CA into `dir`, and returns the scrape config of job `jobName`. Targets are
 * labelled namespace, deployment (the pod's `app` label) and pod.
 */
export async function kubernetesPodScrapeConfig(
  cluster: KubeCluster,
  o: { jobName: string; namespace: string; dir: string; serviceAccount?: string },
): Promise<object> {
  const sa = o.serviceAccount ?? 'prometheus';
  const ns = o.namespace;
  await cluster.http.ok('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
    metadata: { name: sa },
  });
  await cluster.http.ok(
    'POST',
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
    {
      metadata: { name: `${sa}-view` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    },
  );
  const token = await cluster.http.ok(
    'POST',
    `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 86_400 },
    },
  );
  const caFile = join(o.dir, `${ns}-${sa}-ca.crt`);
  const tokenFile = join(o.dir, `${ns}-${sa}.token`);
  writeFileSync(caFile, cluster.caPem);
  writeFileSync(tokenFile, token.status.token as string, { mode: 0o600 });
  return {
    job_name: o.jobName,
    kubernetes_sd_configs: [
      {
        role: 'pod',
        api_server: cluster.server,
        tls_config: { ca_file: caFile },
        authorization: { type: 'Bearer', credentials_file: tokenFile },
        namespaces: { names: [ns] },
      },
    ],
    relabel_configs: [
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
        regex: 'true',
        action: 'keep',
      },
      // Finished pods keep their IP for a while: nothing to scrape there.
      { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Succeeded|Failed', action: 'drop' },
      // One target per container port is discovered: all become <pod IP>:<annotated port> (and
      // Prometheus keeps one of the duplicates).
      {
        source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
        regex: '([^:]+)(?::\\d+)?;(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__',
      },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_label_app'], target_label: 'deployment' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    ],
  };
}
