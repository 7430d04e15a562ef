import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { rolloutStatus } from '../../src/executors/kubernetes/rollout-status.js';
import type { Workload } from '../../src/kube/kube-types.js';

const w = (
  spec: Partial<Workload['spec']>,
  status: NonNullable<Workload['status']>,
  generation = 2,
): Workload => ({
  metadata: { name: 'x', generation },
  spec: { template: {}, ...spec },
  status,
});

type Case = [
  string,
  Workload,
  { done: boolean; failed: boolean; message?: RegExp; counts?: [number, number, number] },
];

describe('Deployment: only the rollout our patch started decides', () => {
  // The bad deploy timed out at 03:00:00; our patch at 03:00:05 produced generation 5.
  const timedOut = {
    type: 'Progressing',
    status: 'False',
    reason: 'ProgressDeadlineExceeded',
    message: 'ReplicaSet "x-v2" has timed out progressing.',
    lastUpdateTime: '2026-01-01T03:00:00Z',
    lastTransitionTime: '2026-01-01T03:00:00Z',
  };
  // One replica, default strategy: right after the patch the counts have not moved yet.
  const lagging = (conditions: unknown[], observedGeneration = 5) =>
    w(
      { replicas: 1 },
      {
        observedGeneration,
        replicas: 2,
        updatedReplicas: 1,
        availableReplicas: 1,
        conditions,
      } as never,
      5,
    );
  const ours = { generation: 5, patchedAt: '2026-01-01T03:00:05Z', before: timedOut };

  test("the bad deploy's ProgressDeadlineExceeded, still there after our patch: waiting, not failed", () => {
    const s = rolloutStatus('Deployment', lagging([timedOut]), ours);
    assert.deepEqual([s.done, s.failed], [false, false]);
    assert.match(s.message, /predates the rollback/);
  });
  test('known only by the server time of our patch (condition not seen before): still waiting', () => {
    const s = rolloutStatus('Deployment', lagging([timedOut]), {
      generation: 5,
      patchedAt: ours.patchedAt,
    });
    assert.deepEqual([s.done, s.failed], [false, false]);
  });
  test('a deadline exceeded after our patch fails the job', () => {
    const later = {
      ...timedOut,
      lastUpdateTime: '2026-01-01T03:10:06Z',
      lastTransitionTime: '2026-01-01T03:10:06Z',
    };
    const s = rolloutStatus('Deployment', lagging([later]), ours);
    assert.deepEqual([s.done, s.failed], [false, true]);
  });
  test('status of a generation older than our patch is not read', () => {
    const s = rolloutStatus('Deployment', lagging([], 4), { generation: 5 });
    assert.match(s.message, /observe the new spec/);
    assert.equal(s.stale, true, 'its numbers are the previous rollout: not progress of ours');
    assert.equal(rolloutStatus('Deployment', lagging([], 5), { generation: 5 }).stale, undefined);
  });
});

describe('Deployment (kubectl rollout status rules)', () => {
  const done = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 };
  const cases: Case[] = [
    [
      'not observed yet: waiting even if numbers look done',
      w({ replicas: 3 }, { ...done, observedGeneration: 1 }),
      { done: false, failed: false, message: /observe/ },
    ],
    [
      'ProgressDeadlineExceeded fails',
      w(
        { replicas: 3 },
        {
          ...done,
          updatedReplicas: 1,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "x" has timed out progressing.',
            },
          ],
        },
      ),
      { done: false, failed: true, message: /ProgressDeadlineExceeded/ },
    ],
    [
      'updated < desired',
      w({ replicas: 3 }, { ...done, updatedReplicas: 2, availableReplicas: 1 }),
      { done: false, failed: false, message: /2 of 3/, counts: [2, 1, 3] },
    ],
    [
      'old replicas pending termination',
      w({ replicas: 3 }, { ...done, replicas: 4 }),
      { done: false, failed: false, message: /1 old/ },
    ],
    [
      'available < updated',
      w({ replicas: 3 }, { ...done, availableReplicas: 2 }),
      { done: false, failed: false, message: /2 of 3 updated replicas available/ },
    ],
    ['done', w({ replicas: 3 }, done), { done: true, failed: false, counts: [3, 3, 3] }],
    [
      'observedGeneration ahead of generation counts as observed',
      w({ replicas: 3 }, { ...done, observedGeneration: 5 }),
      { done: true, failed: false },
    ],
    [
      'Progressing True with another reason does not fail',
      w(
        { replicas: 3 },
        { ...done, conditions: [{ type: 'Progressing', reason: 'NewReplicaSetAvailable' }] },
      ),
      { done: true, failed: false },
    ],
  ];
  for (const [name, workload, expected] of cases) {
    test(name, () => check(rolloutStatus('Deployment', workload), expected));
  }
});

describe('StatefulSet', () => {
  const rolling = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
  const base = {
    observedGeneration: 2,
    replicas: 3,
    readyReplicas: 3,
    updatedReplicas: 3,
    currentRevision: 'a',
    updateRevision: 'a',
  };
  const cases: Case[] = [
    [
      'OnDelete: done once patched, not failed (SPEC), with the note',
      w({ replicas: 3, updateStrategy: { type: 'OnDelete' } }, base),
      {
        done: true,
        failed: false,
        message:
          /updateStrategy OnDelete: the template is patched, and pods change only when they are deleted/,
      },
    ],
    [
      'observedGeneration 0 waits',
      w({ replicas: 3, updateStrategy: rolling }, { ...base, observedGeneration: 0 }),
      { done: false, failed: false },
    ],
    [
      'generation ahead waits',
      w({ replicas: 3, updateStrategy: rolling }, base, 3),
      { done: false, failed: false },
    ],
    [
      'not all ready',
      w({ replicas: 3, updateStrategy: rolling }, { ...base, readyReplicas: 2 }),
      { done: false, failed: false, message: /1 pods/ },
    ],
    [
      'partition 1: two updated is done',
      w(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
        { ...base, updatedReplicas: 2 },
      ),
      { done: true, failed: false },
    ],
    [
      'partition 0: two updated waits',
      w({ replicas: 3, updateStrategy: rolling }, { ...base, updatedReplicas: 2 }),
      { done: false, failed: false, message: /2 of 3/ },
    ],
    [
      'no rollingUpdate block: revisions differ waits',
      w(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate' } },
        { ...base, updateRevision: 'b' },
      ),
      { done: false, failed: false, message: /revision b/ },
    ],
    [
      'no rollingUpdate block: same revision done',
      w({ replicas: 3 }, base),
      { done: true, failed: false, counts: [3, 3, 3] },
    ],
  ];
  for (const [name, workload, expected] of cases) {
    test(name, () => check(rolloutStatus('StatefulSet', workload), expected));
  }
});

describe('DaemonSet', () => {
  const base = {
    observedGeneration: 2,
    desiredNumberScheduled: 4,
    updatedNumberScheduled: 4,
    numberAvailable: 4,
  };
  const cases: Case[] = [
    [
      'OnDelete: done once patched, not failed (SPEC)',
      w({ updateStrategy: { type: 'OnDelete' } }, base),
      { done: true, failed: false, message: /DaemonSet uses updateStrategy OnDelete/ },
    ],
    ['not observed', w({}, { ...base, observedGeneration: 1 }), { done: false, failed: false }],
    [
      'updated < desired',
      w({}, { ...base, updatedNumberScheduled: 3 }),
      { done: false, failed: false, message: /3 of 4/, counts: [3, 4, 4] },
    ],
    [
      'available < desired',
      w({}, { ...base, numberAvailable: 2 }),
      { done: false, failed: false, message: /2 of 4/ },
    ],
    [
      'done',
      w({ updateStrategy: { type: 'RollingUpdate' } }, base),
      { done: true, failed: false, counts: [4, 4, 4] },
    ],
  ];
  for (const [name, workload, expected] of cases) {
    test(name, () => check(rolloutStatus('DaemonSet', workload), expected));
  }
});

function check(actual: ReturnType<typeof rolloutStatus>, expected: Case[2]): void {
  assert.equal(actual.done, expected.done, actual.message);
  assert.equal(actual.failed, expected.failed, actual.message);
  if (expected.message) assert.match(actual.message, expected.message);
  if (expected.counts)
    assert.deepEqual([actual.updated, actual.ready, actual.desired], expected.counts);
}
