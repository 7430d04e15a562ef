// Shared by the real-cluster suites: the controller as a real process with its own identity on
// the cluster, workloads deployed twice (v1 then v2, something to roll back), and alerts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alert, payload } from '../support/alerts.js';
import type { WorkloadKind, WorkloadOptions } from '../support/fake-kube/types.js';
import {
  startKubeCluster,
  type KubeCluster,
  type KubeClusterOptions,
} from '../support/kube-cluster/index.js';
import { freePort } from '../demo/free-port.js';
import {
  startControllerProcess,
  type ControllerProcess,
} from '../reliability/support/controller-process.js';

import { jobIn } from '../reliability/support/cluster.js';
import { until } from '../support/until.js';
import assert from 'node:assert/strict';

export { jobIn, allJobs } from '../reliability/support/cluster.js';

/** Test-sized timings: a short poll, a rollout deadline that a busy machine still meets. */
export const FAST_CONFIG = [
  'rollout: { pollIntervalSeconds: 0.1, deadlineSeconds: 180 }',
  'policy: { cooldownSeconds: 0, circuitBreaker: { maxRollbacks: 100, windowSeconds: 600 } }',
].join('\n');

/**
 * A ServiceAccount for the controller bound to a ClusterRole (default cluster-admin), and a
 * kubeconfig with its token: its requests are told apart from the test's own in the audit log.
 */
export async function controllerIdentity(
  cluster: KubeCluster,
  name: string,
  clusterRole = 'cluster-admin',
): Promise<{ kubeconfig: string; user: string }> {
  const ns = 'rollback-system';
  const exists = await cluster.http.call('GET', `/api/v1/namespaces/${ns}`);
  if (exists.status === 404) await cluster.createNamespace(ns);
  await cluster.http.ok('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
    metadata: { name },
  });
  await cluster.http.ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: `${name}-${clusterRole}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
  });
  return {
    kubeconfig: await cluster.serviceAccountKubeconfig(ns, name),
    user: `system:serviceaccount:${ns}:${name}`,
  };
}

export interface RunningController extends ControllerProcess {
  dataDir: string;
  close(): Promise<void>;
}

/** The real controller process (`src/main.ts`) with a kubeconfig and a YAML config. */
export async function startController(o: {
  kubeconfig: string;
  config?: string;
  env?: Record<string, string>;
  dataDir?: string;
}): Promise<RunningController> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-cluster-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, o.config ?? FAST_CONFIG);
  const dataDir = o.dataDir ?? join(dir, 'data');
  const proc = await startControllerProcess({
    dataDir,
    port: await freePort(),
    config: configPath,
    env: { KUBECONFIG: o.kubeconfig, KUBERNETES_SERVICE_HOST: '', ...o.env },
  }).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  return {
    ...proc,
    dataDir,
    async close() {
      await proc.kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A workload deployed twice (image `<name>:v1`, then `:v2`), both rollouts finished, and the
 * clock into the next whole second: API times are whole seconds and count as the last instant of
 * theirs, so an alert starting in the second of the v2 deploy may be before it and would blame
 * nothing. An alert (or a short-form dry run, which starts now) from here on starts after it.
 */
export async function deployedTwice(
  cluster: KubeCluster,
  kind: WorkloadKind,
  ns: string,
  name: string,
  opts: Partial<WorkloadOptions> = {},
): Promise<void> {
  await cluster.createWorkload(kind, ns, name, { image: `${name}:v1`, ...opts });
  await cluster.waitRolledOut(kind, ns, name);
  await cluster.setImage(kind, ns, name, `${name}:v2`);
  await cluster.waitRolledOut(kind, ns, name);
  // The v2 revision was created at or before now (same machine's clock as the API server).
  await clockPast(Math.floor(Date.now() / 1000) * 1000 + 999);
}

/**
 * An Alertmanager payload with one firing CriticalErrorRate alert for the workload. It started
 * a second from now: after the bad deploy (creation times have second resolution).
 */
export function alertFor(kind: WorkloadKind, ns: string, name: string, startsAt?: string) {
  return payload([
    alert({
      alertname: 'CriticalErrorRate',
      startsAt: startsAt ?? new Date(Date.now() + 1000).toISOString(),
      labels: { namespace: ns, service: name, ...(kind === 'Deployment' ? {} : { kind }) },
    }),
  ]);
}

export function imageOf(w: any): string {
  return w.spec.template.spec.containers[0].image as string;
}

/** Revision numbers listed by `kubectl rollout history`. */
export function historyRevisions(history: string): number[] {
  return history
    .split('\n')
    .map((line) => /^(\d+)\s/.exec(line)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
}

/**
 * A cluster and the controller process on it with its own cluster-admin ServiceAccount (audit
 * user `user`), for a test file's before(); `stop()` for its after().
 */
export async function clusterWithController(
  identity: string,
  o: { cluster?: KubeClusterOptions; config?: string } = {},
): Promise<{
  cluster: KubeCluster;
  controller: RunningController;
  user: string;
  stop(): Promise<void>;
}> {
  const cluster = await startKubeCluster(o.cluster);
  try {
    const { kubeconfig, user } = await controllerIdentity(cluster, identity);
    const controller = await startController({
      kubeconfig,
      ...(o.config !== undefined ? { config: o.config } : {}),
    });
    return {
      cluster,
      controller,
      user,
      async stop() {
        await controller.close();
        await cluster.stop();
      },
    };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/**
 * Sends the workload's alert to the controller, checks it was queued (202), and resolves with
 * the job once it finished (succeeded, failed or skipped).
 */
export async function alertAndWait(
  controller: RunningController,
  kind: WorkloadKind,
  ns: string,
  name: string,
): Promise<any> {
  const r = await controller.call('POST', 'trigger', alertFor(kind, ns, name));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const decision = r.body.decisions[0];
  assert.equal(decision.decision, 'queued', JSON.stringify(decision));
  return jobIn(controller.call, decision.jobId, ['succeeded', 'failed', 'skipped'], 180_000);
}

/** The ReplicaSets in a namespace by their Deployment revision number. */
export async function replicaSetsByRevision(
  cluster: KubeCluster,
  ns: string,
): Promise<Map<number, any>> {
  const list = await cluster.http.ok('GET', `/apis/apps/v1/namespaces/${ns}/replicasets`);
  return new Map(
    list.items.map((rs: any) => [
      Number(rs.metadata.annotations['deployment.kubernetes.io/revision']),
      rs,
    ]),
  );
}

/** Waits until the wall clock is past `ms` (times on the server have 1 s resolution). */
export async function clockPast(ms: number): Promise<void> {
  await until(
    () => Date.now() > ms,
    Math.max(10_000, ms - Date.now() + 10_000),
    'the clock to pass a point',
  );
}

/**
 * A controller replica's own Pod, as the API server reports it: a follower forwards only to the
 * Lease holder's pod address (contract.md "Authentication"). The pods sit on a Node no simulated
 * kubelet owns, so nothing but the test writes their status.
 */
export async function controllerPod(cluster: KubeCluster, name: string): Promise<void> {
  const node = 'controllers';
  // Replicas may start at once: whichever creates the Node first, the other finds it (409).
  const created = await cluster.http.call('POST', '/api/v1/nodes', { metadata: { name: node } });
  assert.ok([201, 409].includes(created.status), JSON.stringify(created.body));
  const ns = 'rollback-system';
  const exists = await cluster.http.call('GET', `/api/v1/namespaces/${ns}`);
  if (exists.status === 404) await cluster.createNamespace(ns);
  await cluster.http.ok('POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name },
    spec: {
      nodeName: node,
      containers: [{ name: 'controller', image: 'rollback-controller:test' }],
    },
  });
  await cluster.http.ok(
    'PATCH',
    `/api/v1/namespaces/${ns}/pods/${name}/status`,
    { status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } },
    'application/merge-patch+json',
  );
}

/** The environment of a replica with leader election, its pod made by controllerPod. */
export function haEnv(name: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    ROLLBACK_LEADER_ELECTION: 'true',
    POD_NAME: name,
    POD_NAMESPACE: 'rollback-system',
    POD_IP: '127.0.0.1',
    ROLLBACK_ADVERTISE_URL: '',
    // Generous for a busy machine: a leader that misses its renew deadline steps down.
    ROLLBACK_LEASE_DURATION_SECONDS: '8',
    ROLLBACK_LEASE_RENEW_DEADLINE_SECONDS: '6',
    ROLLBACK_LEASE_RETRY_PERIOD_SECONDS: '0.5',
    ...env,
  };
}
