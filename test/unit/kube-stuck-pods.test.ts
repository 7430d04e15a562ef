import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { notReadyPods, stuckPods, stuckReason } from '../../src/executors/kubernetes/stuck-pods.js';
import type { Pod, Workload } from '../../src/kube/kube-types.js';

const sts = (o: { generation?: number; observed?: number; policy?: string } = {}): Workload => ({
  metadata: { name: 'db', namespace: 'shop', uid: 'sts', generation: o.generation ?? 3 },
  spec: {
    replicas: 2,
    template: {},
    ...(o.policy ? { podManagementPolicy: o.policy } : {}),
  },
  status: { observedGeneration: o.observed ?? 3, updateRevision: 'db-good' },
});
const pod = (name: string, revision: string, ready: boolean, owner = 'sts'): Pod => ({
  metadata: {
    name,
    labels: { 'controller-revision-hash': revision },
    ownerReferences: [{ uid: owner, controller: true }],
  },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('StatefulSet forced rollback: stuck pods', () => {
  const pods = [
    pod('db-1', 'db-bad', false),
    pod('db-0', 'db-good', true),
    pod('other-1', 'db-bad', false, 'someone-else'),
  ];

  test('a not-ready pod off the update revision, once the patched generation is observed', () => {
    assert.deepEqual(
      stuckPods(sts(), pods).map((p) => p.metadata.name),
      ['db-1'],
    );
  });

  test('none before the controller observed the patch, with Parallel, or when ready', () => {
    assert.deepEqual(stuckPods(sts({ observed: 2 }), pods), []);
    assert.deepEqual(stuckPods(sts({ policy: 'Parallel' }), pods), []);
    assert.deepEqual(stuckPods(sts(), [pod('db-1', 'db-bad', true)]), []);
  });

  test('the reason names the pod and the command', () => {
    assert.equal(
      stuckReason(sts(), stuckPods(sts(), pods)),
      'StatefulSet shop/db is stuck on pod db-1 of the bad revision db-bad, which is not ready: with podManagementPolicy OrderedReady the StatefulSet controller waits for it forever (forced rollback). Delete it (kubectl delete pod db-1 -n shop) and it is recreated from the rolled-back revision, or set policy.deleteStuckPods: true',
    );
  });

  test('before the patch: pods of the bad revision that are not ready, by ordinal', () => {
    const list = [pod('db-10', 'db-bad', false), pod('db-2', 'db-bad', false)];
    assert.deepEqual(
      notReadyPods(sts(), list, (r) => r === 'db-bad').map((p) => p.metadata.name),
      ['db-2', 'db-10'],
    );
  });
});
