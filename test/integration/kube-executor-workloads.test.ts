// StatefulSet and DaemonSet rollbacks, and rollouts that never finish (progress deadline and
// the job's own deadline), against the fake API server.
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { fakeKubeToken, startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { executorFor, makeContext, makeJob, pinned } from './kube-executor-helpers.js';
import type { Executor } from '../../src/model/executor.js';
import type { WorkloadRef } from '../../src/model/workload-ref.js';

let fake: FakeKube;
let executor: Executor;
let n = 0;

before(async () => {
  fake = await startFakeKube({ rolloutStepMs: 10 });
  executor = executorFor(fake.kubeconfigPath);
});
after(async () => {
  await fake.close();
});

const image = (obj: {
  spec: { template: { spec: { containers: Array<{ image: string }> } } };
}): string => obj.spec.template.spec.containers[0].image;

for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
  describe(kind, () => {
    async function deployedTwice(): Promise<WorkloadRef> {
      const ref: WorkloadRef = { kind, namespace: 'default', name: `${kind.toLowerCase()}${++n}` };
      if (kind === 'StatefulSet') {
        await fake.createStatefulSet(ref.namespace, ref.name, { image: 'db:v1', replicas: 3 });
      } else {
        await fake.createDaemonSet(ref.namespace, ref.name, { image: 'agent:v1' });
      }
      await fake.settle();
      await fake.setImage(
        kind,
        ref.namespace,
        ref.name,
        kind === 'StatefulSet' ? 'db:v2' : 'agent:v2',
      );
      await fake.settle();
      return ref;
    }
    const v1 = kind === 'StatefulSet' ? 'db:v1' : 'agent:v1';
    const v2 = kind === 'StatefulSet' ? 'db:v2' : 'agent:v2';

    test('v1 → v2, execute: back to v1 with a strategic merge patch, recorded, succeeded', async () => {
      const ref = await deployedTwice();
      const job = await pinned(executor, makeJob(ref));
      assert.equal(job.fromRevision, 2);
      assert.equal(job.toRevision, 1);
      const plan = await executor.plan(job);
      assert.equal(plan.action, 'rollback', plan.reason);
      assert.equal(plan.serverDryRun, true);
      assert.deepEqual(
        plan.changes?.images.map((i) => [i.from, i.to]),
        [[v2, v1]],
      );

      const { ctx, events, updates } = makeContext();
      const result = await executor.execute(job, ctx);

      assert.equal(result.outcome, 'succeeded', result.reason);
      const w = fake.get(kind, ref.namespace, ref.name);
      assert.equal(image(w), v1);
      const record = JSON.parse(w.metadata.annotations['rollback-controller.io/last-rollback']);
      assert.deepEqual([record.jobId, record.fromRevision, record.toRevision], [job.id, 2, 1]);
      assert.ok(w.metadata.annotations['kubernetes.io/change-cause']);
      assert.equal(updates[0]?.patched, true);
      assert.ok(events.some((e) => e.event === 'progress'));
      const patches = fake.requests.filter(
        (r) => r.method === 'PATCH' && r.path.endsWith(`/${ref.name}`) && r.query?.dryRun !== 'All',
      );
      assert.equal(patches.length, 1);
      assert.equal(patches[0].contentType, 'application/strategic-merge-patch+json');
      const kubeEvents = fake.list('Event', ref.namespace);
      assert.ok(
        kubeEvents.some(
          (e: { involvedObject?: { name?: string }; reason?: string }) =>
            e.involvedObject?.name === ref.name && e.reason === 'RollbackTriggered',
        ),
      );
    });

    test('updateStrategy OnDelete: the plan says so; patched, then succeeded with that note', async () => {
      const ref = await deployedTwice();
      const plural = kind === 'StatefulSet' ? 'statefulsets' : 'daemonsets';
      const res = await fetch(
        `${fake.url}/apis/apps/v1/namespaces/${ref.namespace}/${plural}/${ref.name}`,
        {
          method: 'PATCH',
          headers: {
            'content-type': 'application/merge-patch+json',
            authorization: `Bearer ${fakeKubeToken}`,
          },
          body: JSON.stringify({
            spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } },
          }),
        },
      );
      assert.equal(res.status, 200, await res.text());
      await fake.settle();
      const job = await pinned(executor, makeJob(ref));
      const plan = await executor.plan(job);
      assert.equal(plan.action, 'rollback', plan.reason);
      assert.match(plan.reason, new RegExp(`the ${kind} uses updateStrategy OnDelete`));
      const result = await executor.execute(job, makeContext().ctx);
      assert.equal(result.outcome, 'succeeded', result.reason);
      assert.match(
        result.reason,
        /updateStrategy OnDelete: the template is patched, and pods change only when they are deleted/,
      );
      assert.equal(image(fake.get(kind, ref.namespace, ref.name)), v1);
    });

    test('moved on after pinning → skipped', async () => {
      const ref = await deployedTwice();
      const job = await pinned(executor, makeJob(ref));
      await fake.setImage(kind, ref.namespace, ref.name, 'x:v3');
      await fake.settle();
      const result = await executor.execute(job, makeContext().ctx);
      assert.equal(result.outcome, 'skipped');
      assert.equal(result.reason, 'workload moved on: revision 3 is current, alert was for 2');
    });
  });
}

describe('rollouts that do not finish', () => {
  async function deployment(): Promise<WorkloadRef> {
    const ref: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: `stuck${++n}` };
    await fake.createDeployment(ref.namespace, ref.name, {
      image: 'web:v1',
      replicas: 2,
      progressDeadlineSeconds: 1,
    });
    await fake.settle();
    await fake.setImage('Deployment', ref.namespace, ref.name, 'web:v2');
    await fake.settle();
    return ref;
  }

  test('ProgressDeadlineExceeded → failed with that reason', async () => {
    // progressDeadlineSeconds: 1, so the fake's controller times the stuck rollout out quickly.
    const ref = await deployment();
    fake.stickRollouts('Deployment', ref.namespace, ref.name, true);
    const job = await pinned(executor, makeJob(ref));
    const result = await executor.execute(job, makeContext({ rolloutTimeoutMs: 15_000 }).ctx);
    fake.stickRollouts('Deployment', ref.namespace, ref.name, false);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /ProgressDeadlineExceeded/);
  });

  test('job deadline passes → failed with the deadline as reason', async () => {
    const ref = await deployment();
    fake.stickRollouts('Deployment', ref.namespace, ref.name, true);
    const job = await pinned(executor, makeJob(ref));
    const { ctx, updates } = makeContext({ rolloutTimeoutMs: 300 });
    // The rollout is stuck for good: returning at all is the deadline at work (reason below).
    const result = await executor.execute(job, ctx);
    fake.stickRollouts('Deployment', ref.namespace, ref.name, false);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /^rollout did not finish within the 0.3s deadline: /);
    assert.equal(updates[0]?.patched, true, 'the patch was applied before the deadline hit');
  });
});
