// The job follows only the rollout its own patch started: a newer generation with another pod
// template is someone else's deploy (stop, skipped, saying who), a newer generation with the
// same template (HPA, `kubectl scale`, a replicas-only apply) is still ours, and a job journaled
// before the digest existed follows as it always did.
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { followRollout } from '../../src/executors/kubernetes/follow-rollout.js';
import { ourRollout } from '../../src/executors/kubernetes/our-rollout.js';
import type { OurRollout } from '../../src/executors/kubernetes/rollout-status.js';
import { supersededRollout } from '../../src/executors/kubernetes/superseded-rollout.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import type { ManagedFieldsEntry, Workload } from '../../src/kube/kube-types.js';

const template = (image: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image }] },
});
const templateOwner = (manager: string, time: string): ManagedFieldsEntry => ({
  manager,
  operation: 'Update',
  time,
  fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': {} } } },
});
const scaler: ManagedFieldsEntry = {
  manager: 'kubectl',
  operation: 'Update',
  subresource: 'scale',
  time: '2026-12-07T14:00:09Z',
  fieldsV1: { 'f:spec': { 'f:replicas': {} } },
};

/** The Deployment as our patch left it: generation 5, v1, written by us. */
const patched: Workload = {
  metadata: {
    name: 'web',
    namespace: 'prod',
    generation: 5,
    managedFields: [
      templateOwner('kubectl-client-side-apply', '2026-12-07T13:00:00Z'),
      templateOwner('rollback-controller', '2026-12-07T14:00:05Z'),
    ],
  },
  spec: { replicas: 2, template: template('web:v1') },
  status: { observedGeneration: 4, replicas: 2, updatedReplicas: 0, availableReplicas: 2 },
};
const ours: OurRollout = ourRollout('rollback-controller', patched);

/** `patched` changed by someone else: generation 6, then the given fields. */
function later(change: {
  image?: string;
  replicas?: number;
  managedFields?: ManagedFieldsEntry[];
}): Workload {
  return {
    ...patched,
    metadata: {
      ...patched.metadata,
      generation: 6,
      managedFields: change.managedFields ?? patched.metadata.managedFields ?? [],
    },
    spec: {
      replicas: change.replicas ?? 2,
      // A copy with keys in another order and the hash label: compared as templatesEqual does.
      template: change.image
        ? template(change.image)
        : {
            spec: { containers: [{ image: 'web:v1', name: 'web' }] },
            metadata: { labels: { 'pod-template-hash': '7d9f', app: 'web' } },
          },
    },
  };
}

describe('supersededRollout: is the rollout followed still ours?', () => {
  test('records the digest of the template the API server returned', () => {
    assert.equal(ours.generation, 5);
    assert.match(ours.templateDigest ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  test('our own generation, even before the controller observed it: ours', () => {
    assert.equal(supersededRollout(patched, ours), undefined);
  });

  test('a newer generation with another template: a newer deploy, named by managedFields', () => {
    const human = later({
      image: 'web:v3',
      managedFields: [
        ...(patched.metadata.managedFields ?? []),
        templateOwner('kubectl-set', '2026-12-07T14:00:08Z'),
        scaler,
      ],
    });
    assert.equal(
      supersededRollout(human, ours),
      'the workload changed again after the rollback (generation 5 → 6, template differs: a newer deploy by kubectl-set); not following a rollout that is not ours. The rollback patch was applied (it counts toward the circuit breaker), but its outcome cannot be told, so there is no verdict',
    );
  });

  test('no manager wrote the template after us on record: still stops, naming nobody', () => {
    const reason = supersededRollout(later({ image: 'web:v3', managedFields: [scaler] }), ours);
    assert.match(reason ?? '', /template differs: a newer deploy\); not following/);
  });

  test('a newer generation with the same template (replicas only, HPA, kubectl scale): ours', () => {
    const scaled = later({ replicas: 5, managedFields: [scaler] });
    assert.equal(supersededRollout(scaled, ours), undefined);
  });

  test('a job journaled before the digest existed: followed as before', () => {
    const old = { ...ours };
    delete old.templateDigest;
    assert.equal(supersededRollout(later({ image: 'web:v3' }), old), undefined);
  });
});

describe('followRollout stops on a newer deploy', () => {
  function follow(states: Workload[], o: OurRollout) {
    let i = 0;
    let now = 0;
    const client = {
      readWorkload: async () => states[Math.min(i++, states.length - 1)],
    } as unknown as KubeClient;
    return followRollout({
      client,
      ref: { kind: 'Deployment', namespace: 'prod', name: 'web' },
      ctx: {
        signal: new AbortController().signal,
        rolloutTimeoutMs: 60_000,
        progress: () => {},
        update: async () => {},
      },
      startedAt: 0,
      ours: o,
      pollIntervalMs: 1000,
      clock: { now: () => now },
      sleep: async (ms) => void (now += ms),
    });
  }
  const finished = (w: Workload): Workload => ({
    ...w,
    status: { observedGeneration: 6, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
  });

  test('the human’s rollout finishing is not reported as the rollback’s: skipped', async () => {
    const human = later({ image: 'web:v3' });
    const result = await follow([patched, human, finished(human)], ours);
    assert.equal(result.outcome, 'skipped');
    assert.match(
      result.reason,
      /^the workload changed again after the rollback \(generation 5 → 6/,
    );
  });

  test('a replicas-only change is followed to the end: succeeded', async () => {
    const result = await follow([patched, later({ replicas: 2 }), finished(later({}))], ours);
    assert.equal(result.outcome, 'succeeded', result.reason);
  });
});
