// Shared by the node suite: buildah on its image store (.tools/buildah-<driver>, as
// test/node/build-images.sh uses it), the chart installed with helm, the controller's API and the
// demo app.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import { helmOn } from '../support/helm.js';

const driver = process.env['BUILDAH_STORAGE_DRIVER'] || 'overlay';
const storage = resolve(import.meta.dirname, `../../.tools/buildah-${driver}`);

export function buildah(args: string[]): string {
  return execFileSync(
    'buildah',
    [
      '--root',
      `${storage}/root`,
      '--runroot',
      `${storage}/run`,
      '--storage-driver',
      driver,
      ...args,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
}

/** The image's size as `buildah images` reports it (uncompressed layers, e.g. "416 MB"). */
export function imageSize(image: string): string {
  const rows = JSON.parse(buildah(['images', '--json', image])) as Array<{ size: string }>;
  return rows[0]?.size ?? '';
}

export const CHART = resolve(import.meta.dirname, '../../charts/rollback-controller');
export const RELEASE = 'rollback-controller';
export const RELEASE_NS = 'rollback-system';
export const SA_USER = `system:serviceaccount:${RELEASE_NS}:${RELEASE}`;
export const WEBHOOK_SECRET = 'node-suite-webhook-secret';
export const OPERATOR_SECRET = 'node-suite-operator-secret';

/** `helm <args>` against the cluster, with helm's own folders under `dir`. */
export function helm(cluster: KubeCluster, dir: string, args: string[]): Promise<string> {
  return helmOn(cluster, dir, args, 900_000);
}

/** The chart's values for the node suite: the imported image, known secrets, test timings. */
export function chartValues(o: {
  image: string;
  namespaces: string[];
  slackUrl?: string;
  replicaCount?: number;
  config?: object;
}): object {
  const [repository, tag] = o.image.split(/:(?=[^:]+$)/);
  return {
    replicaCount: o.replicaCount ?? 1,
    image: { repository, tag, pullPolicy: 'Never' },
    rbac: { namespaces: o.namespaces },
    secret: {
      webhookSecret: WEBHOOK_SECRET,
      operatorSecret: OPERATOR_SECRET,
      slackWebhookUrl: o.slackUrl ?? '',
    },
    slack: { enabled: o.slackUrl !== undefined },
    config: {
      rollout: { pollIntervalSeconds: 0.5, deadlineSeconds: 300 },
      policy: {
        cooldownSeconds: 0,
        circuitBreaker: { maxRollbacks: 100, windowSeconds: 600 },
        // Namespaced Roles: a new leader's scan must stay inside them (README, real control plane).
        allowedNamespaces: o.namespaces,
      },
      ...o.config,
    },
  };
}

/** `helm upgrade --install --wait` of the chart with these values. */
export async function installChart(cluster: KubeCluster, dir: string, values: object) {
  const file = join(dir, `values-${Date.now()}.yaml`);
  writeFileSync(file, stringify(values));
  await helm(cluster, dir, [
    'upgrade',
    '--install',
    RELEASE,
    CHART,
    '-n',
    RELEASE_NS,
    '--create-namespace',
    '-f',
    file,
    '--wait',
    '--timeout',
    '15m',
  ]);
}

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

/** A call to the controller's API at `base` (the Service or a pod), as Alertmanager or the operator. */
export async function callController(
  base: string,
  method: string,
  path: string,
  o: { body?: unknown; as?: 'webhook' | 'operator' } = {},
): Promise<{ status: number; body: any }> {
  const auth =
    o.as === 'operator'
      ? basic('operator', OPERATOR_SECRET)
      : basic('alertmanager', WEBHOOK_SECRET);
  const res = await fetch(`${base}/api/admin/rollback/${path}`, {
    method,
    headers: {
      authorization: auth,
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, body };
}

/** http://<ClusterIP>:<port> of a Service (reached through kube-proxy). */
export async function serviceUrl(cluster: KubeCluster, ns: string, name: string): Promise<string> {
  const svc = await cluster.http.ok('GET', `/api/v1/namespaces/${ns}/services/${name}`);
  return `http://${svc.spec.clusterIP}:${svc.spec.ports[0].port}`;
}

/** Pods of a label selector. */
export async function podsOf(cluster: KubeCluster, ns: string, selector: string): Promise<any[]> {
  const list = await cluster.http.ok(
    'GET',
    `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`,
  );
  return list.items as any[];
}

export const isReady = (pod: any): boolean =>
  pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * The demo app as a Deployment (one replica, the image's version label on its pods), scraped by
 * Prometheus through its pods' annotations.
 */
export function demoDeployment(ns: string, name: string, image: string, replicas = 1): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
        },
        spec: {
          terminationGracePeriodSeconds: 5,
          securityContext: { runAsNonRoot: true, runAsUser: 10001 },
          containers: [
            {
              name: 'app',
              image,
              imagePullPolicy: 'Never',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

/** The demo app deployed on v1, then on v2 (something to roll back); both rollouts finished. */
export async function demoDeployedTwice(
  cluster: KubeCluster,
  ns: string,
  name: string,
  images: { demoV1: string; demoV2: string },
): Promise<void> {
  await cluster.apply(JSON.stringify(demoDeployment(ns, name, images.demoV1)));
  await cluster.waitRolledOut('Deployment', ns, name, 300_000);
  await cluster.setImage('Deployment', ns, name, images.demoV2);
  await cluster.waitRolledOut('Deployment', ns, name, 300_000);
}
