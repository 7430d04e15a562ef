// The harness itself, on the real control plane: rollouts finish on the simulated kubelets, the
// image tags `:never-ready` and `:crashloop` give a real ProgressDeadlineExceeded, the audit log
// records who did what, and a ServiceAccount kubeconfig is held to RBAC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ADMIN_USER, startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';

let cluster: KubeCluster;
before(async () => {
  cluster = await startKubeCluster();
});
after(async () => {
  await cluster?.stop();
});

const progressing = (d: any) => d.status?.conditions?.find((c: any) => c.type === 'Progressing');

describe('real control plane harness', () => {
  test('a Deployment rolls out; kubectl sees the revisions; the audit log has the PATCH', async () => {
    await cluster.createNamespace('harness-a');
    await cluster.createWorkload('Deployment', 'harness-a', 'web', {
      image: 'web:v1',
      replicas: 2,
    });
    await cluster.waitRolledOut('Deployment', 'harness-a', 'web');
    await cluster.setImage('Deployment', 'harness-a', 'web', 'web:v2');
    const d = await cluster.waitRolledOut('Deployment', 'harness-a', 'web');
    assert.equal(d.spec.template.spec.containers[0].image, 'web:v2');
    assert.equal(d.status.readyReplicas, 2);
    const history = await cluster.kubectl([
      'rollout',
      'history',
      'deployment/web',
      '-n',
      'harness-a',
    ]);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
    const writes = cluster.audit.templateWrites({
      user: ADMIN_USER,
      namespace: 'harness-a',
      name: 'web',
    });
    assert.equal(writes.length, 1, 'one template PATCH by the admin');
    assert.equal(writes[0].verb, 'patch');
  });

  test('`:never-ready` → ProgressDeadlineExceeded from the real Deployment controller', async () => {
    await cluster.createNamespace('harness-b');
    await cluster.createWorkload('Deployment', 'harness-b', 'api', {
      image: 'api:v1',
      progressDeadlineSeconds: 2,
    });
    await cluster.waitRolledOut('Deployment', 'harness-b', 'api');
    await cluster.setImage('Deployment', 'harness-b', 'api', 'api:never-ready');
    const stuck = await cluster.waitFor(
      'Deployment',
      'harness-b',
      'api',
      (d) => progressing(d)?.reason === 'ProgressDeadlineExceeded',
      60_000,
    );
    assert.equal(progressing(stuck).status, 'False');
    assert.equal(stuck.status.readyReplicas, 1, 'the v1 pod still serves');
    await assert.rejects(
      cluster.kubectl(['rollout', 'status', 'deployment/api', '-n', 'harness-b', '--timeout=20s']),
      /exceeded its progress deadline/,
    );
  });

  test('`:crashloop` pods restart and never become Ready', async () => {
    await cluster.createNamespace('harness-c');
    await cluster.createWorkload('Deployment', 'harness-c', 'worker', {
      image: 'worker:crashloop',
    });
    const pod = await until(async () => {
      const pods = await cluster.http.ok('GET', '/api/v1/namespaces/harness-c/pods');
      return pods.items.find(
        (p: any) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2,
      );
    });
    const status = pod.status.containerStatuses[0];
    assert.equal(status.ready, false);
    assert.equal(status.state.waiting.reason, 'CrashLoopBackOff');
  });

  test('StatefulSet and DaemonSet roll out and update with real ControllerRevisions', async () => {
    await cluster.createNamespace('harness-d');
    await cluster.createWorkload('StatefulSet', 'harness-d', 'db', { image: 'db:v1', replicas: 2 });
    await cluster.createWorkload('DaemonSet', 'harness-d', 'agent', { image: 'agent:v1' });
    await cluster.waitRolledOut('StatefulSet', 'harness-d', 'db');
    const ds = await cluster.waitRolledOut('DaemonSet', 'harness-d', 'agent');
    assert.equal(ds.status.desiredNumberScheduled, cluster.nodes.length, 'one pod per node');
    const revisions = await cluster.http.ok(
      'GET',
      '/apis/apps/v1/namespaces/harness-d/controllerrevisions',
    );
    assert.equal(revisions.items.length, 2);
    // Updates replace pods: the simulated kubelets confirm each deletion, as a kubelet does.
    await cluster.setImage('StatefulSet', 'harness-d', 'db', 'db:v2');
    await cluster.setImage('DaemonSet', 'harness-d', 'agent', 'agent:v2');
    await cluster.waitRolledOut('StatefulSet', 'harness-d', 'db');
    await cluster.waitRolledOut('DaemonSet', 'harness-d', 'agent');
    const pods = await cluster.http.ok('GET', '/api/v1/namespaces/harness-d/pods');
    assert.deepEqual((pods.items as any[]).map((p) => p.spec.containers[0].image).sort(), [
      'agent:v2',
      'agent:v2',
      'db:v2',
      'db:v2',
    ]);
  });

  test('a ServiceAccount kubeconfig is held to RBAC; the denial is in the audit log', async () => {
    await cluster.createNamespace('harness-e');
    await cluster.http.ok('POST', '/api/v1/namespaces/harness-e/serviceaccounts', {
      metadata: { name: 'reader' },
    });
    const kubeconfig = await cluster.serviceAccountKubeconfig('harness-e', 'reader');
    await assert.rejects(
      cluster.kubectl(['get', 'deployments', '-n', 'harness-e'], { kubeconfig }),
      /forbidden/,
    );
    const user = 'system:serviceaccount:harness-e:reader';
    const denied = cluster.audit.denied({ user });
    assert.ok(denied.length >= 1, 'the 403 is audited');
    assert.deepEqual(cluster.audit.verbsUsed(user), ['list apps/deployments']);
  });

  test('stop() kills every process and removes the folder', async () => {
    const other = await startKubeCluster({ nodes: ['solo'] });
    const dir = other.dir;
    assert.ok(existsSync(dir));
    await other.stop();
    assert.equal(existsSync(dir), false);
    const r = await other.http.call('GET', '/readyz').catch((e: Error) => e);
    assert.ok(r instanceof Error, 'the API server is gone');
  });
});

async function until<T>(probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
