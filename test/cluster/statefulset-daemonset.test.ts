// StatefulSet and DaemonSet rollbacks by the real controller process on the real control plane:
// v1 → v2 (running, but the alert fires) → alert → back on v1 through the API server's own
// strategic merge of the ControllerRevision data; the real controllers roll it out; exactly one
// template PATCH by the controller in the audit log; `kubectl rollout history` shows the new
// revision, as after `kubectl rollout undo`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import type { WorkloadKind } from '../support/fake-kube/types.js';
import {
  alertAndWait,
  clusterWithController,
  deployedTwice,
  historyRevisions,
  imageOf,
  type RunningController,
} from './support.js';

let cluster: KubeCluster;
let controller: RunningController;
let user: string;
let stop: (() => Promise<void>) | undefined;

before(async () => {
  ({ cluster, controller, user, stop } = await clusterWithController('rc-workloads'));
});
after(async () => {
  await stop?.();
});

const cases: Array<{
  kind: Exclude<WorkloadKind, 'Deployment'>;
  resource: string;
  replicas?: number;
}> = [
  { kind: 'StatefulSet', resource: 'statefulset', replicas: 2 },
  { kind: 'DaemonSet', resource: 'daemonset' },
];

describe('StatefulSet and DaemonSet on the real control plane', () => {
  for (const c of cases) {
    test(`${c.kind} v1 → v2 → alert → back on v1, one template PATCH`, async () => {
      const ns = `rb-${c.resource}`;
      const name = 'store';
      await cluster.createNamespace(ns);
      await deployedTwice(cluster, c.kind, ns, name, {
        ...(c.replicas ? { replicas: c.replicas } : {}),
        annotations: { team: 'payments' },
      });
      const before = await cluster.kubectl([
        'rollout',
        'history',
        `${c.resource}/${name}`,
        '-n',
        ns,
      ]);
      assert.deepEqual(historyRevisions(before), [1, 2]);

      const job = await alertAndWait(controller, c.kind, ns, name);
      assert.equal(
        job.state,
        'succeeded',
        `${job.reason ?? ''}\n${controller.output().slice(-3000)}`,
      );
      assert.equal(job.fromRevision, 2);
      assert.equal(job.toRevision, 1);

      const w = await cluster.waitRolledOut(c.kind, ns, name);
      assert.equal(imageOf(w), `${name}:v1`, 'back on v1, rolled out by the real controller');
      assert.equal(w.metadata.annotations.team, 'payments');
      assert.ok(w.metadata.annotations['rollback-controller.io/last-rollback']);
      const history = await cluster.kubectl([
        'rollout',
        'history',
        `${c.resource}/${name}`,
        '-n',
        ns,
      ]);
      assert.deepEqual(
        historyRevisions(history),
        [2, 3],
        'revision 1 came back as 3, like kubectl undo',
      );

      const writes = cluster.audit.templateWrites({ user, namespace: ns, name });
      assert.equal(writes.length, 1, `exactly one template PATCH: ${JSON.stringify(writes)}`);
      assert.equal(writes[0].verb, 'patch');
      assert.deepEqual(cluster.audit.denied({ user }), [], 'no request was denied');
      const pods = await cluster.http.ok('GET', `/api/v1/namespaces/${ns}/pods`);
      for (const pod of pods.items as any[])
        assert.equal(pod.spec.containers[0].image, `${name}:v1`, `${pod.metadata.name} runs v1`);
    });
  }
});
