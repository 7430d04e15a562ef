// Issue 22 on the real control plane, with real kubectl as the human and the API server's audit
// log as the judge of what the controller wrote: a deploy the workload controller has not
// processed is never undone (in flux), late and whole-second times only ever skip, a restart is
// not the deploy blamed, and a StatefulSet stuck on a never-ready pod is named (or, with
// policy.deleteStuckPods, unstuck).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkloadKind } from '../support/fake-kube/types.js';
import { workloadManifest, type KubeCluster } from '../support/kube-cluster/index.js';
import { startKubeCluster } from '../support/kube-cluster/index.js';
import {
  FAST_CONFIG,
  alertFor,
  clockPast,
  controllerIdentity,
  deployedTwice,
  imageOf,
  jobIn,
  replicaSetsByRevision,
  startController,
  type RunningController,
} from './support.js';

let cluster: KubeCluster;
let controller: RunningController;
let kubeconfig: string;
let user: string;

before(async () => {
  cluster = await startKubeCluster();
  ({ kubeconfig, user } = await controllerIdentity(cluster, 'rc-revision'));
  controller = await startController({ kubeconfig });
});
after(async () => {
  await controller?.close();
  await cluster?.stop();
});

const finished = ['succeeded', 'failed', 'skipped'];
const resource = (kind: WorkloadKind) => kind.toLowerCase();

/** Sends the alert (and the same payload to the dry run first); the finished job and the plan. */
async function alertJob(
  c: RunningController,
  kind: WorkloadKind,
  ns: string,
  name: string,
  startsAt?: string,
): Promise<{ job: any; plan: any }> {
  const body = alertFor(kind, ns, name, startsAt);
  const dry = await c.call('POST', 'test', body);
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  const r = await c.call('POST', 'trigger', body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const d = r.body.decisions[0];
  assert.equal(d.decision, 'queued', JSON.stringify(d));
  const job = await jobIn(c.call, d.jobId, finished, 240_000);
  return { job, plan: dry.body.plans[0] };
}

const writesBy = (u: string, ns: string, name: string) =>
  cluster.audit.templateWrites({ user: u, namespace: ns, name });

const replicaSets = (ns: string) => replicaSetsByRevision(cluster, ns);

describe('in flux: a deploy the controller manager has not processed yet is never undone', () => {
  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) {
    test(`${kind}: controller manager frozen, human sets v3, alert → skipped, v3 rolls out after`, async () => {
      const ns = `flux-${resource(kind)}`;
      const name = 'api';
      await cluster.createNamespace(ns);
      await deployedTwice(cluster, kind, ns, name);
      // The alert is about v2: it started before the human's deploy.
      const startsAt = new Date().toISOString();
      const thaw = cluster.freezeControllerManager();
      let thawed = false;
      try {
        await cluster.kubectl([
          'set',
          'image',
          `${resource(kind)}/${name}`,
          `${name}=${name}:v3`,
          '-n',
          ns,
        ]);
        const w = await cluster.get(kind, ns, name);
        assert.ok(w.metadata.generation > w.status.observedGeneration, 'a change not processed');

        const { job, plan } = await alertJob(controller, kind, ns, name, startsAt);
        const inFlux = new RegExp(
          `^${kind} ${ns}/${name} is in flux: the ${resource(kind)} controller has not processed generation ${w.metadata.generation} of its spec yet \\(status\\.observedGeneration ${w.status.observedGeneration}\\): a newer change is in flux; not rolled back, so a newer deploy is never undone`,
        );
        assert.equal(job.state, 'skipped', `${job.reason}\n${controller.output().slice(-2000)}`);
        assert.match(job.reason, inFlux);
        assert.equal(plan.execution.action, 'skip', JSON.stringify(plan));
        assert.equal(plan.execution.reason, job.reason, 'the dry run says the same');
        assert.deepEqual(writesBy(user, ns, name), [], 'the controller wrote no template');
        thaw();
        thawed = true;
        const done = await cluster.waitRolledOut(kind, ns, name, 120_000);
        assert.equal(imageOf(done), `${name}:v3`, "the human's deploy stands");
      } finally {
        if (!thawed) thaw();
      }
    });
  }
});

describe('times that may be late never make a revision young enough to roll back', () => {
  let aged: RunningController;
  before(async () => {
    aged = await startController({
      kubeconfig,
      config: FAST_CONFIG.replace('policy: {', 'policy: { maxRevisionAgeSeconds: 5,'),
    });
  });
  after(async () => {
    await aged?.close();
  });

  for (const kind of ['Deployment', 'StatefulSet'] as const) {
    test(`${kind}: v1 → v2 → human undo → replicas-only kubectl apply → alert: skipped by age`, async () => {
      const ns = `late-${resource(kind)}`;
      const name = 'shop';
      await cluster.createNamespace(ns);
      const manifest = (replicas: number) =>
        JSON.stringify(workloadManifest(kind, ns, name, { image: `${name}:v1`, replicas }));
      const created = Date.now();
      await cluster.apply(manifest(1));
      await cluster.waitRolledOut(kind, ns, name);
      await cluster.kubectl([
        'set',
        'image',
        `${resource(kind)}/${name}`,
        `${name}=${name}:v2`,
        '-n',
        ns,
      ]);
      await cluster.waitRolledOut(kind, ns, name);
      // The undo lands in a later second than v1's creation (a renumbered ControllerRevision
      // is told from a new one by its managedFields time).
      await clockPast(created + 1000);
      await cluster.kubectl(['rollout', 'undo', `${resource(kind)}/${name}`, '-n', ns]);
      const undoneBy = Date.now();
      await cluster.waitRolledOut(kind, ns, name);
      // v1 has been current again for longer than the 5 s limit when the human scales it.
      await clockPast(undoneBy + 8000);
      await cluster.apply(manifest(2));
      // The alert starts a second after the apply: the apply's time is then "before the alert",
      // and young enough (under 5 s) to pass the age limit if it were trusted.
      await clockPast(Date.now() + 1000);
      const scaled = await cluster.waitRolledOut(kind, ns, name);
      assert.equal(imageOf(scaled), `${name}:v1`);
      assert.equal(scaled.spec.replicas, 2);

      const { job, plan } = await alertJob(aged, kind, ns, name, new Date().toISOString());
      assert.equal(job.state, 'skipped', `${job.reason}\n${aged.output().slice(-2000)}`);
      assert.match(
        job.reason,
        /^revision 3 may have been running since \S+ \(it was reused, and revision 2 \(\S+\), created at \S+, came before it; no later time is certain\), \d+ s before the alert: a change that may be that old is not blamed \(policy\.maxRevisionAgeSeconds: 5\)$/,
      );
      assert.equal(plan.execution.reason, job.reason);
      assert.deepEqual(writesBy(user, ns, name), [], 'v2, which the human removed, is not back');
      assert.equal(imageOf(await cluster.get(kind, ns, name)), `${name}:v1`);
    });
  }

  test('a deploy in the alert’s own second is not "before the alert": skipped', async () => {
    const ns = 'same-second';
    const name = 'pay';
    await cluster.createNamespace(ns);
    await deployedTwice(cluster, 'Deployment', ns, name);
    const sent = Date.now();
    await cluster.kubectl(['set', 'image', `deployment/${name}`, `${name}=${name}:v3`, '-n', ns]);
    await cluster.waitRolledOut('Deployment', ns, name);
    const created = (await replicaSets(ns)).get(3).metadata.creationTimestamp as string;
    // The alert started no later than the deploy, within the second the API server recorded.
    const startsAt = new Date(Math.max(sent, Date.parse(created))).toISOString();
    assert.equal(Math.floor(Date.parse(startsAt) / 1000), Date.parse(created) / 1000);

    const { job, plan } = await alertJob(controller, 'Deployment', ns, name, startsAt);
    assert.equal(job.state, 'skipped', JSON.stringify({ created, startsAt, job, plan }));
    assert.match(
      job.reason,
      new RegExp(
        `^workload moved on: revision 3 became current at ${new Date(created).toISOString()}, within the same second as the alert start, so possibly after it`,
      ),
    );
    assert.equal(plan.execution.reason, job.reason);
    assert.deepEqual(writesBy(user, ns, name), []);
    assert.equal(imageOf(await cluster.get('Deployment', ns, name)), `${name}:v3`);
  });
});

describe('a restart is not a deploy', () => {
  const cases = [
    { kind: 'Deployment', alert: 'before the restart' },
    { kind: 'StatefulSet', alert: 'after the restart' },
  ] as const;
  for (const c of cases) {
    test(`${c.kind}: v1 → v2 (bad) → kubectl rollout restart, alert ${c.alert} → back on v1 (3 → 1), restart dropped`, async () => {
      const ns = `restart-${resource(c.kind)}`;
      const name = 'web';
      await cluster.createNamespace(ns);
      await deployedTwice(cluster, c.kind, ns, name, { replicas: 2 });
      // The alert started after the bad deploy (API times are whole seconds).
      const v2Done = Date.now();
      let startsAt = new Date(v2Done + 1000).toISOString();
      if (c.alert === 'before the restart') await clockPast(v2Done + 2000);
      await cluster.kubectl(['rollout', 'restart', `${resource(c.kind)}/${name}`, '-n', ns]);
      const restarted = await cluster.waitRolledOut(c.kind, ns, name, 120_000);
      assert.ok(restarted.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
      assert.equal(imageOf(restarted), `${name}:v2`);
      if (c.alert === 'after the restart') startsAt = new Date(Date.now() + 1000).toISOString();

      const { job, plan } = await alertJob(controller, c.kind, ns, name, startsAt);
      assert.equal(plan.execution.action, 'rollback', JSON.stringify(plan));
      assert.equal(
        plan.execution.reason.split(' (')[0],
        `roll back ${c.kind} ${ns}/${name} from revision 3 to 1`,
      );
      assert.match(
        plan.execution.reason,
        /revision 3 only restarted revision 2, the deploy blamed; the restart is dropped/,
      );
      assert.equal(job.state, 'succeeded', `${job.reason}\n${controller.output().slice(-2000)}`);
      assert.deepEqual([job.fromRevision, job.toRevision], [3, 1]);
      const w = await cluster.waitRolledOut(c.kind, ns, name, 120_000);
      assert.equal(imageOf(w), `${name}:v1`, 'the bad image is gone');
      assert.equal(
        w.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'],
        undefined,
        'revision 1 came back as it was',
      );
      assert.equal(writesBy(user, ns, name).length, 1, 'exactly one template PATCH');
    });
  }
});

describe('StatefulSet forced rollback (OrderedReady, the bad pod never becomes ready)', () => {
  /** v1 on two pods, then an image whose pod never becomes ready: stuck on pod api-1. */
  async function stuckStatefulSet(ns: string, name: string): Promise<void> {
    await cluster.createNamespace(ns);
    await cluster.createWorkload('StatefulSet', ns, name, { image: `${name}:v1`, replicas: 2 });
    await cluster.waitRolledOut('StatefulSet', ns, name);
    await cluster.kubectl([
      'set',
      'image',
      `statefulset/${name}`,
      `${name}=${name}:never-ready`,
      '-n',
      ns,
    ]);
    await cluster.waitFor(
      'StatefulSet',
      ns,
      name,
      (s) =>
        s.status?.updatedReplicas === 1 && s.status?.observedGeneration === s.metadata.generation,
      60_000,
    );
    const pod = await cluster.http.ok('GET', `/api/v1/namespaces/${ns}/pods/${name}-1`);
    assert.equal(pod.spec.containers[0].image, `${name}:never-ready`);
  }

  test('without the policy: the job fails naming the pod to delete (and the plan warns)', async () => {
    const ns = 'forced-name';
    const name = 'db';
    const short = await startController({
      kubeconfig,
      config: FAST_CONFIG.replace('deadlineSeconds: 180', 'deadlineSeconds: 30'),
    });
    try {
      await stuckStatefulSet(ns, name);
      const { job, plan } = await alertJob(short, 'StatefulSet', ns, name);
      assert.match(
        plan.execution.reason,
        new RegExp(
          `pod ${name}-1 of revision 2 is not ready: .*forced rollback.*kubectl delete pod ${name}-1 -n ${ns}, or set policy\\.deleteStuckPods: true`,
        ),
      );
      assert.equal(job.state, 'failed', job.reason);
      assert.match(
        job.reason,
        new RegExp(
          `StatefulSet ${ns}/${name} is stuck on pod ${name}-1 of the bad revision \\S+, which is not ready: .* Delete it \\(kubectl delete pod ${name}-1 -n ${ns}\\)`,
        ),
      );
      assert.equal(writesBy(user, ns, name).length, 1, 'the rollback patch itself was applied');
      assert.deepEqual(
        cluster.audit.events({ user, verb: 'delete', resource: 'pods', namespace: ns }),
        [],
        'no pod deleted without the policy',
      );
    } finally {
      await short.close();
    }
  });

  test('policy.deleteStuckPods: the stuck pod is deleted after the patch, back on v1, succeeded', async () => {
    const ns = 'forced-delete';
    const name = 'db';
    const deleting = await startController({
      kubeconfig,
      config: FAST_CONFIG.replace('policy: {', 'policy: { deleteStuckPods: true,'),
    });
    try {
      await stuckStatefulSet(ns, name);
      const { job, plan } = await alertJob(deleting, 'StatefulSet', ns, name);
      assert.match(plan.execution.reason, /policy\.deleteStuckPods: pods still on revision 2/);
      assert.equal(job.state, 'succeeded', `${job.reason}\n${deleting.output().slice(-2000)}`);
      const deletes = cluster.audit.events({
        user,
        verb: 'delete',
        resource: 'pods',
        namespace: ns,
      });
      assert.deepEqual(
        deletes.map((e) => [e.objectRef?.name, e.responseStatus?.code]),
        [[`${name}-1`, 200]],
      );
      const note = job.timeline.find((e: any) => /^deleted pod /.test(e.message ?? ''));
      assert.match(
        note?.message ?? '',
        new RegExp(`^deleted pod ${name}-1: stuck on the bad revision`),
      );
      const pods = await cluster.http.ok('GET', `/api/v1/namespaces/${ns}/pods`);
      for (const pod of pods.items as any[])
        assert.equal(pod.spec.containers[0].image, `${name}:v1`, `${pod.metadata.name} runs v1`);
    } finally {
      await deleting.close();
    }
  });
});
