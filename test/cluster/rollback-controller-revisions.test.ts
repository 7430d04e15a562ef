// Issue 12 on the real control plane, StatefulSets and DaemonSets (ControllerRevisions): a manual
// `kubectl rollout undo` after the alert started reuses the old ControllerRevision (renumbered,
// creation time unchanged) and the job is skipped; a workload with `updateStrategy: OnDelete` is
// patched and the job succeeds with that note, the plan says so, and no pod is replaced.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkloadKind } from '../support/fake-kube/types.js';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { until } from '../support/until.js';
import {
  alertFor,
  controllerIdentity,
  deployedTwice,
  imageOf,
  jobIn,
  startController,
  type RunningController,
} from './support.js';

let cluster: KubeCluster;
let controller: RunningController;
let user: string;

before(async () => {
  cluster = await startKubeCluster();
  const identity = await controllerIdentity(cluster, 'rc-revisions-cr');
  user = identity.user;
  controller = await startController({ kubeconfig: identity.kubeconfig });
});
after(async () => {
  if (controller) await controller.close();
  await cluster?.stop();
});

const finished = ['succeeded', 'failed', 'skipped'];
const resource = (kind: WorkloadKind) => kind.toLowerCase();

async function controllerRevisions(ns: string): Promise<Map<number, any>> {
  const list = await cluster.http.ok('GET', `/apis/apps/v1/namespaces/${ns}/controllerrevisions`);
  return new Map(list.items.map((cr: any) => [Number(cr.revision), cr]));
}

async function trigger(body: unknown): Promise<string> {
  const r = await controller.call('POST', 'trigger', body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.decisions[0].decision, 'queued', JSON.stringify(r.body.decisions[0]));
  return r.body.decisions[0].jobId as string;
}

async function pods(ns: string): Promise<Array<{ name: string; uid: string; image: string }>> {
  const list = await cluster.http.ok('GET', `/api/v1/namespaces/${ns}/pods`);
  return list.items
    .map((p: any) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      image: p.spec.containers[0].image,
    }))
    .sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name));
}

describe('ControllerRevision workloads on the real control plane (issue 12)', () => {
  test('StatefulSet: a manual `kubectl rollout undo` after the alert started → skipped, nothing patched', async () => {
    const ns = 'rb-sts-undo';
    const name = 'db';
    await cluster.createNamespace(ns);
    await deployedTwice(cluster, 'StatefulSet', ns, name, { replicas: 2 });
    const before = await controllerRevisions(ns);
    const created = Math.max(
      ...[...before.values()].map((cr) => Date.parse(cr.metadata.creationTimestamp)),
    );
    const startsAt = new Date(created + 1000);
    await until(() => Date.now() > startsAt.getTime() + 1000, 10_000, 'the clock to move on');
    await cluster.kubectl(['rollout', 'undo', `statefulset/${name}`, '-n', ns]);
    await cluster.waitRolledOut('StatefulSet', ns, name);

    // The real controller reused the v1 ControllerRevision as revision 3, creation time unchanged.
    const after = await controllerRevisions(ns);
    assert.equal(after.get(3)?.metadata.name, before.get(1)?.metadata.name);
    assert.equal(
      after.get(3)?.metadata.creationTimestamp,
      before.get(1)?.metadata.creationTimestamp,
    );

    const id = await trigger(alertFor('StatefulSet', ns, name, startsAt.toISOString()));
    const job = await jobIn(controller.call, id, finished, 60_000);
    assert.equal(job.state, 'skipped', job.reason);
    assert.match(
      job.reason,
      /^workload moved on: revision 3 became current at \S+, after the alert started at \S+ \(ControllerRevision \S+ renumbered at \S+\)$/,
    );
    assert.equal(imageOf(await cluster.get('StatefulSet', ns, name)), `${name}:v1`);
    assert.equal(cluster.audit.templateWrites({ user, namespace: ns, name }).length, 0);
  });

  for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
    test(`${kind} with updateStrategy OnDelete: plan says so; patched; succeeded with the note; no pod replaced`, async () => {
      const ns = `rb-ondelete-${resource(kind)}`;
      const name = 'cache';
      await cluster.createNamespace(ns);
      await cluster.createWorkload(kind, ns, name, {
        image: `${name}:v1`,
        ...(kind === 'StatefulSet' ? { replicas: 2 } : {}),
      });
      await cluster.waitRolledOut(kind, ns, name);
      await cluster.kubectl([
        'patch',
        resource(kind),
        name,
        '-n',
        ns,
        '--type=merge',
        '-p',
        '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}',
      ]);
      await cluster.setImage(kind, ns, name, `${name}:v2`);
      // OnDelete: the new revision exists, the pods stay on v1 until deleted.
      await until(async () => (await controllerRevisions(ns)).has(2), 30_000, 'revision 2');
      const podsBefore = await pods(ns);
      assert.ok(podsBefore.length > 0 && podsBefore.every((p) => p.image === `${name}:v1`));

      const body = alertFor(kind, ns, name);
      const dry = await controller.call('POST', 'test', body);
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      assert.equal(
        dry.body.plans[0].execution.action,
        'rollback',
        dry.body.plans[0].execution.reason,
      );
      assert.match(
        dry.body.plans[0].execution.reason,
        new RegExp(`the ${kind} uses updateStrategy OnDelete`),
      );

      const id = await trigger(body);
      const job = await jobIn(controller.call, id, finished, 60_000);
      assert.equal(job.state, 'succeeded', `${job.reason}\n${controller.output().slice(-2000)}`);
      assert.match(
        job.reason,
        /updateStrategy OnDelete: the template is patched, and pods change only when they are deleted/,
      );
      assert.equal(imageOf(await cluster.get(kind, ns, name)), `${name}:v1`);
      assert.equal(cluster.audit.templateWrites({ user, namespace: ns, name }).length, 1);
      assert.deepEqual(await pods(ns), podsBefore, 'OnDelete: no pod was replaced');
    });
  }
});
