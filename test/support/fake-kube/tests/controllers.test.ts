// The simulated controllers, stepped by hand with a fixed clock (no timers, no HTTP).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimState } from '../controllers/common.js';
import { DaemonSetController } from '../controllers/daemonset.js';
import { DeploymentController } from '../controllers/deployment.js';
import type { Controller, SyncResult } from '../controllers/loop.js';
import { ReplicaSetController } from '../controllers/replicaset.js';
import { StatefulSetController } from '../controllers/statefulset.js';
import { Registry } from '../registry.js';
import { resourceForKind } from '../resources.js';
import { Store } from '../store.js';
import type { ControllerRevision, Workload } from '../types.js';

const t0 = Date.parse('2025-01-01T00:00:00Z');

function setup(
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet',
  spec: Record<string, unknown> = {},
) {
  const registry = new Registry(new Store(), () => new Date(t0));
  const state: SimState = {
    stuck: new Set(),
    deadlineScale: 1,
    daemonSetNodes: new Map([['ns/app', 3]]),
  };
  const controllers: Controller[] =
    kind === 'Deployment'
      ? [new ReplicaSetController(registry, state), new DeploymentController(registry, state)]
      : kind === 'StatefulSet'
        ? [new StatefulSetController(registry, state)]
        : [new DaemonSetController(registry, state)];
  // One step of the loop: every controller once, in order.
  const sync = (now: number): SyncResult => {
    const results = controllers.map((c) => c.sync(now));
    const wakeAt = results.find((r) => r.wakeAt !== undefined)?.wakeAt;
    const changed = results.some((r) => r.changed);
    return wakeAt === undefined ? { changed } : { changed, wakeAt };
  };
  const type = resourceForKind(kind);
  registry.create(type, 'ns', {
    metadata: { name: 'app', annotations: { 'kubernetes.io/change-cause': 'first' } },
    spec: {
      ...(kind === 'DaemonSet' ? {} : { replicas: 3 }),
      selector: { matchLabels: { app: 'app' } },
      template: {
        metadata: { labels: { app: 'app' } },
        spec: { containers: [{ name: 'app', image: 'app:v1' }] },
      },
      ...spec,
    },
  });
  let now = t0;
  return {
    registry,
    state,
    get: () => registry.get(type, 'ns', 'app') as Workload,
    setImage(image: string) {
      const w = registry.get(type, 'ns', 'app') as Workload;
      w.spec.template.spec.containers[0].image = image;
      registry.update(type, 'ns', 'app', w);
    },
    /** Steps until nothing changes; returns how many steps changed something. */
    run(stepMs = 1000): number {
      for (let steps = 0; steps < 100; steps++) {
        now += stepMs;
        if (!sync(now).changed) return steps;
      }
      throw new Error('controller never settled');
    },
    step(stepMs = 1000) {
      now += stepMs;
      return sync(now);
    },
  };
}

const condition = (w: Workload, type: string) => w.status?.conditions?.find((c) => c.type === type);

describe('Deployment controller', () => {
  test('rolls out in steps, then reuses the old ReplicaSet on rollback with revision max+1', () => {
    const sim = setup('Deployment');
    sim.run();
    let d = sim.get();
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual(
      {
        observed: d.status?.observedGeneration,
        updated: d.status?.updatedReplicas,
        available: d.status?.availableReplicas,
      },
      { observed: 1, updated: 3, available: 3 },
    );
    assert.equal(condition(d, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.equal(condition(d, 'Available')?.status, 'True');

    sim.setImage('app:v2');
    const steps = sim.run();
    assert.ok(steps >= 4, `a 3-replica rolling update takes several steps, took ${steps}`);
    const rsType = resourceForKind('ReplicaSet');
    const byImage = () =>
      Object.fromEntries(
        (sim.registry.store.list(rsType, 'ns') as Workload[]).map((rs) => [
          rs.spec.template.spec.containers[0].image,
          rs,
        ]),
      );
    let sets = byImage();
    assert.equal(sets['app:v1'].spec.replicas, 0);
    assert.equal(sets['app:v2'].spec.replicas, 3);
    assert.equal(sets['app:v2'].metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(sets['app:v2'].metadata.annotations?.['kubernetes.io/change-cause'], 'first');
    const hash = sets['app:v2'].metadata.labels?.['pod-template-hash'];
    assert.equal(sets['app:v2'].metadata.name, `app-${hash}`);
    assert.equal(sets['app:v2'].spec.selector.matchLabels?.['pod-template-hash'], hash);
    assert.equal(sets['app:v2'].metadata.ownerReferences?.[0]?.uid, sim.get().metadata.uid);

    sim.setImage('app:v1');
    sim.run();
    sets = byImage();
    assert.equal(Object.keys(sets).length, 2);
    assert.equal(sets['app:v1'].metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(
      sets['app:v1'].metadata.annotations?.['deployment.kubernetes.io/revision-history'],
      '1',
    );
    assert.equal(sets['app:v1'].spec.replicas, 3);
    d = sim.get();
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(d.status?.observedGeneration, 3);
  });

  test('surge and availability limits hold at every step', () => {
    const sim = setup('Deployment');
    sim.run();
    sim.setImage('app:v2');
    for (let i = 0; i < 30; i++) {
      const changed = sim.step().changed;
      const sets = sim.registry.store.list(resourceForKind('ReplicaSet'), 'ns') as Workload[];
      const total = sets.reduce((sum, rs) => sum + (rs.spec.replicas ?? 0), 0);
      const available = sets.reduce(
        (sum, rs) => sum + Number(rs.status?.availableReplicas ?? 0),
        0,
      );
      assert.ok(total <= 4, `maxSurge 25% of 3 rounds up to 1: ${total} pods`);
      assert.ok(
        available >= 3 || i === 0,
        `maxUnavailable 25% of 3 rounds down to 0: ${available} available`,
      );
      if (!changed) break;
    }
  });

  test('a stuck rollout reports ProgressDeadlineExceeded after progressDeadlineSeconds', () => {
    const sim = setup('Deployment', { progressDeadlineSeconds: 30 });
    sim.run();
    sim.state.stuck.add('Deployment/ns/app');
    sim.setImage('app:bad');
    sim.run();
    let d = sim.get();
    assert.equal(condition(d, 'Progressing')?.reason, 'ReplicaSetUpdated');
    const wake = sim.step(0).wakeAt;
    assert.ok(wake !== undefined, 'waits for the deadline');
    sim.step(31_000);
    d = sim.get();
    assert.deepEqual(
      { status: condition(d, 'Progressing')?.status, reason: condition(d, 'Progressing')?.reason },
      { status: 'False', reason: 'ProgressDeadlineExceeded' },
    );
    assert.match(
      condition(d, 'Progressing')?.message ?? '',
      /^ReplicaSet "app-\w+" has timed out progressing\.$/,
    );
    assert.equal(d.status?.availableReplicas, 3);
    assert.equal(d.status?.updatedReplicas, 1);
  });

  test('a paused Deployment does not roll out', () => {
    const sim = setup('Deployment');
    sim.run();
    const d = sim.get();
    d.spec.paused = true;
    sim.registry.update(resourceForKind('Deployment'), 'ns', 'app', d);
    sim.setImage('app:v2');
    sim.run();
    assert.equal(sim.registry.store.list(resourceForKind('ReplicaSet'), 'ns').length, 1);
    assert.equal(condition(sim.get(), 'Progressing')?.reason, 'DeploymentPaused');
  });
});

for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
  test(`${kind} controller: ControllerRevisions, reuse with a bumped revision, status`, () => {
    const sim = setup(kind);
    sim.run();
    sim.setImage('app:v2');
    sim.run();
    sim.setImage('app:v1');
    sim.run();
    const revisions = (
      sim.registry.store.list(resourceForKind('ControllerRevision'), 'ns') as ControllerRevision[]
    ).sort((a, b) => a.revision - b.revision);
    assert.deepEqual(
      revisions.map((r) => r.revision),
      [2, 3],
    );
    const latest = revisions[1];
    const template = latest.data as unknown as {
      spec: { template: Workload['spec']['template'] & { $patch: string } };
    };
    assert.equal(template.spec.template.$patch, 'replace');
    assert.equal(template.spec.template.spec.containers[0].image, 'app:v1');
    assert.deepEqual(
      Object.keys(latest.data),
      ['spec'],
      'only the template, as kubectl undo applies it',
    );
    assert.equal(latest.metadata.labels?.app, 'app');
    assert.equal(latest.metadata.annotations?.['kubernetes.io/change-cause'], 'first');
    assert.equal(latest.metadata.ownerReferences?.[0]?.controller, true);
    const hashLabel =
      kind === 'StatefulSet' ? 'controller.kubernetes.io/hash' : 'controller-revision-hash';
    assert.equal(latest.metadata.name, `app-${latest.metadata.labels?.[hashLabel]}`);
    const status = sim.get().status!;
    if (kind === 'StatefulSet') {
      assert.deepEqual(
        [
          status.currentRevision,
          status.updateRevision,
          status.readyReplicas,
          status.updatedReplicas,
          status.currentReplicas,
        ],
        [latest.metadata.name, latest.metadata.name, 3, 3, 3],
      );
    } else {
      assert.deepEqual(
        [
          status.desiredNumberScheduled,
          status.updatedNumberScheduled,
          status.numberAvailable,
          status.numberReady,
        ],
        [3, 3, 3, 3],
      );
    }
    assert.equal(status.observedGeneration, 3);
  });
}
