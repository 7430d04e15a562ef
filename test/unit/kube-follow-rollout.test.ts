// followRollout judges only the rollout our patch started: the bad deploy's ProgressDeadlineExceeded,
// still on the Deployment while the controller has not seen progress yet, never fails the job.
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { followRollout } from '../../src/executors/kubernetes/follow-rollout.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import type { Condition, Workload } from '../../src/kube/kube-types.js';
import type { ProgressEvent } from '../../src/model/executor.js';

const timedOut: Condition = {
  type: 'Progressing',
  status: 'False',
  reason: 'ProgressDeadlineExceeded',
  message: 'ReplicaSet "web-v2" has timed out progressing.',
  lastUpdateTime: '2026-01-01T03:00:00Z',
  lastTransitionTime: '2026-01-01T03:00:00Z',
};
const progressing = (at: string): Condition => ({
  type: 'Progressing',
  status: 'True',
  reason: 'ReplicaSetUpdated',
  lastUpdateTime: at,
  lastTransitionTime: at,
});
const deployment = (status: NonNullable<Workload['status']>): Workload => ({
  metadata: { name: 'web', namespace: 'prod', generation: 5 },
  spec: { replicas: 1, template: {} },
  status,
});

/** The Deployment as the controller showed it after our patch (one replica, default strategy). */
const afterPatch = [
  // Generation observed, counts not moved yet, the bad deploy's timeout still there.
  deployment({
    observedGeneration: 5,
    replicas: 2,
    updatedReplicas: 1,
    availableReplicas: 1,
    conditions: [timedOut],
  }),
  deployment({
    observedGeneration: 5,
    replicas: 1,
    updatedReplicas: 1,
    availableReplicas: 1,
    conditions: [progressing('2026-01-01T03:00:06Z')],
  }),
];

function run(states: Workload[], ours: Parameters<typeof followRollout>[0]['ours']) {
  let i = 0;
  const client = {
    readWorkload: async () => states[Math.min(i++, states.length - 1)],
  } as unknown as KubeClient;
  const events: ProgressEvent[] = [];
  let now = 0;
  return followRollout({
    client,
    ref: { kind: 'Deployment', namespace: 'prod', name: 'web' },
    ctx: {
      signal: new AbortController().signal,
      rolloutTimeoutMs: 60_000,
      progress: (e) => void events.push(e),
      update: async () => {},
    },
    startedAt: 0,
    ours,
    pollIntervalMs: 1000,
    clock: { now: () => now },
    sleep: async (ms) => void (now += ms),
  });
}

describe('followRollout: the rollout our patch started', () => {
  test('a timeout left from the bad deploy does not fail the rollback; it succeeds', async () => {
    const result = await run(afterPatch, {
      generation: 5,
      patchedAt: '2026-01-01T03:00:05Z',
      before: timedOut,
    });
    assert.equal(result.outcome, 'succeeded', result.reason);
  });

  test('a new deadline exceeded after our patch still fails it', async () => {
    const again = {
      ...timedOut,
      lastUpdateTime: '2026-01-01T03:10:07Z',
      lastTransitionTime: '2026-01-01T03:10:07Z',
    };
    const stuck = deployment({
      observedGeneration: 5,
      replicas: 2,
      updatedReplicas: 1,
      availableReplicas: 1,
      conditions: [again],
    });
    const result = await run([afterPatch[0], stuck], {
      generation: 5,
      patchedAt: '2026-01-01T03:00:05Z',
      before: timedOut,
    });
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /ProgressDeadlineExceeded/);
  });

  test("no progress ever: the job's own deadline fails it", async () => {
    const result = await run([afterPatch[0]], {
      generation: 5,
      patchedAt: '2026-01-01T03:00:05Z',
      before: timedOut,
    });
    assert.equal(result.outcome, 'failed');
    assert.match(
      result.reason,
      /^rollout did not finish within the 60s deadline: the progress deadline condition predates the rollback/,
    );
  });
});
