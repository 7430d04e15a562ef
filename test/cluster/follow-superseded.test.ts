// After its rollback patch the job follows only the rollout that patch started. On the real
// control plane, with the controller manager frozen so our rollout cannot finish first, a human
// acts with real kubectl: a `kubectl set image` is a newer deploy (the job stops, skipped, and
// the human's image stays), a `kubectl scale` is not (the job follows our rollout to the end).
// The audit log counts the controller's template writes: exactly one, its rollback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import { until } from '../support/until.js';
import {
  alertFor,
  clusterWithController,
  deployedTwice,
  imageOf,
  jobIn,
  type RunningController,
} from './support.js';

let cluster: KubeCluster;
let controller: RunningController;
let user: string;
let stop: () => Promise<void>;

before(async () => {
  ({ cluster, controller, user, stop } = await clusterWithController('rc-follow'));
});
after(async () => {
  await stop?.();
});

const finished = ['succeeded', 'failed', 'skipped'];

/**
 * v1 → v2, controller manager frozen, the alert: resolves once the job has recorded its patch
 * (and the audit log holds it), with the rollout unable to progress until `thaw()`.
 */
async function patchedWhileFrozen(ns: string, name: string) {
  await cluster.createNamespace(ns);
  await deployedTwice(cluster, 'Deployment', ns, name);
  const thaw = cluster.freezeControllerManager();
  try {
    const r = await controller.call('POST', 'trigger', alertFor('Deployment', ns, name));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const d = r.body.decisions[0];
    assert.equal(d.decision, 'queued', JSON.stringify(d));
    let job: any;
    await until(
      async () => {
        job = (await controller.call('GET', `jobs/${d.jobId}`)).body;
        return job?.patched === true || finished.includes(job?.state);
      },
      180_000,
      'the job to record its patch',
    );
    assert.equal(job.state, 'running', `${job.state}: ${job.reason}`);
    assert.match(job.rollout.templateDigest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(templateWrites(ns, name).length, 1, 'our one rollback patch');
    return { jobId: d.jobId as string, generation: job.rollout.generation as number, thaw };
  } catch (e) {
    thaw();
    throw e;
  }
}

const templateWrites = (ns: string, name: string) =>
  cluster.audit.templateWrites({ user, namespace: ns, name });

describe('the job follows only the rollout its own patch started', () => {
  test('a human kubectl set image after our patch: skipped, the human’s image stays', async () => {
    const ns = 'follow-deploy';
    const name = 'api';
    const { jobId, generation, thaw } = await patchedWhileFrozen(ns, name);
    try {
      await cluster.kubectl(['set', 'image', `deployment/${name}`, `${name}=${name}:v3`, '-n', ns]);
    } finally {
      thaw();
    }
    const job = await jobIn(controller.call, jobId, finished, 240_000);
    assert.equal(job.state, 'skipped', `${job.reason}\n${controller.output().slice(-2000)}`);
    assert.equal(
      job.reason,
      `the workload changed again after the rollback (generation ${generation} → ${generation + 1}, template differs: a newer deploy by kubectl-set); not following a rollout that is not ours. The rollback patch was applied (it counts toward the circuit breaker), but its outcome cannot be told, so there is no verdict`,
    );
    assert.equal(job.patched, true);
    assert.equal(job.verdict, undefined, 'no verdict about a rollout that is not ours');
    const done = await cluster.waitRolledOut('Deployment', ns, name, 120_000);
    assert.equal(imageOf(done), `${name}:v3`, 'the human’s deploy stands');
    assert.equal(templateWrites(ns, name).length, 1, 'the controller patched the template once');
  });

  test('a human kubectl scale after our patch: still ours, followed to succeeded', async () => {
    const ns = 'follow-scale';
    const name = 'web';
    const { jobId, generation, thaw } = await patchedWhileFrozen(ns, name);
    try {
      await cluster.kubectl(['scale', `deployment/${name}`, '--replicas=2', '-n', ns]);
      const scaled = await cluster.get('Deployment', ns, name);
      assert.equal(scaled.metadata.generation, generation + 1, 'a scale bumps the generation');
    } finally {
      thaw();
    }
    const job = await jobIn(controller.call, jobId, finished, 240_000);
    assert.equal(job.state, 'succeeded', `${job.reason}\n${controller.output().slice(-2000)}`);
    const done = await cluster.waitRolledOut('Deployment', ns, name, 120_000);
    assert.equal(imageOf(done), `${name}:v1`, 'rolled back');
    assert.equal(done.spec.replicas, 2, 'the human’s scale stands');
    assert.equal(templateWrites(ns, name).length, 1, 'the controller patched the template once');
  });
});
