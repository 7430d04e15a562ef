// The Rollout kind's pure parts: which action a Rollout's state calls for (abort in flight,
// pinned undo + fast-track once promoted, a defined skip otherwise), the pinning rules every
// kind follows, the requests it sends, and the verdict read from its status.
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { ReplicaSet, Workload } from '../../src/kube/kube-types.js';
import { formatLastRollback } from '../../src/kube/last-rollback.js';
import type { ArgoRollout } from '../../src/executors/kubernetes/rollouts/argo-rollout.js';
import { findRolloutRevisions } from '../../src/executors/kubernetes/rollouts/find-rollout-revisions.js';
import {
  resolveRollout,
  type RolloutResolution,
} from '../../src/executors/kubernetes/rollouts/resolve-rollout.js';
import { argoRolloutStatus } from '../../src/executors/kubernetes/rollouts/argo-rollout-status.js';
import { landedRolloutRequest } from '../../src/executors/kubernetes/rollouts/landed-rollout-request.js';
import {
  abortPatch,
  promoteFullPatch,
  undoPatch,
} from '../../src/executors/kubernetes/rollouts/rollout-patches.js';

const ALERT = '2025-01-01T01:00:00Z';
const tpl = (image: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image }] },
});
const rs = (
  hash: string,
  revision: number,
  image: string,
  o: {
    minute?: number;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  } = {},
): ReplicaSet => ({
  metadata: {
    name: `web-${hash}`,
    creationTimestamp: `2025-01-01T00:${String(o.minute ?? revision).padStart(2, '0')}:00Z`,
    labels: { app: 'web', 'rollouts-pod-template-hash': hash },
    annotations: { 'rollout.argoproj.io/revision': String(revision), ...o.annotations },
    ownerReferences: [{ uid: 'ro', controller: true }],
  },
  spec: {
    template: {
      metadata: {
        labels: { app: 'web', 'rollouts-pod-template-hash': hash, ...o.labels },
      },
      spec: { containers: [{ name: 'web', image }], terminationGracePeriodSeconds: 30 },
    },
  },
});
const SETS = [rs('h1', 1, 'web:v1'), rs('h2', 2, 'web:v2')];

function rollout(
  status: ArgoRollout['status'],
  spec: { [K in keyof ArgoRollout['spec']]?: ArgoRollout['spec'][K] | undefined } = {},
  annotations: Record<string, string> = {},
): ArgoRollout {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'ro', generation: 4, annotations },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: tpl('web:v2'),
      strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } },
      ...(spec as ArgoRollout['spec']),
    },
    status: { observedGeneration: '4', phase: 'Healthy', ...status },
  };
}
const IN_FLIGHT = { stableRS: 'h1', currentPodHash: 'h2', phase: 'Paused' };
const PROMOTED = { stableRS: 'h2', currentPodHash: 'h2' };

function resolve(
  ro: ArgoRollout,
  o: { sets?: ReplicaSet[]; fromRevision?: number; toRevision?: number; reference?: Workload } = {},
): RolloutResolution {
  return resolveRollout(
    {
      rollout: ro,
      history: findRolloutRevisions(ro, o.sets ?? SETS),
      ...(o.reference ? { reference: o.reference } : {}),
    },
    {
      job: {
        alert: { startsAt: ALERT } as never,
        ...(o.fromRevision === undefined ? {} : { fromRevision: o.fromRevision }),
        ...(o.toRevision === undefined ? {} : { toRevision: o.toRevision }),
      },
      optOutAnnotation: 'rollback-controller.io/disabled',
      maxRevisionAgeSeconds: 86_400,
    },
  );
}

function rolledBack(res: RolloutResolution) {
  assert.equal(res.action, 'rollback', res.reason);
  if (res.action !== 'rollback') throw new Error('unreachable');
  return res;
}

describe('Rollout: the action follows the state', () => {
  test('in flight (stableRS differs from currentPodHash) → abort back to the stable revision', () => {
    const res = rolledBack(resolve(rollout(IN_FLIGHT), { fromRevision: 2 }));
    assert.deepEqual(res.rollout, {
      type: 'abort',
      strategy: 'canary',
      stableHash: 'h1',
      badHash: 'h2',
    });
    assert.equal(res.fromRevision, 2);
    assert.equal(res.toRevision, 1);
    assert.deepEqual(res.images, [{ container: 'web', from: 'web:v2', to: 'web:v1' }]);
    assert.match(res.reason, /abort the update of Rollout shop\/web to revision 2/);
  });

  test('in flight on top of an aborted revision: the target is the stable one, not the previous number', () => {
    const sets = [rs('h1', 1, 'web:v1'), rs('h2', 2, 'web:v2'), rs('h3', 3, 'web:v3')];
    const res = rolledBack(
      resolve(rollout({ stableRS: 'h1', currentPodHash: 'h3' }, { template: tpl('web:v3') }), {
        sets,
      }),
    );
    assert.equal(res.rollout.type, 'abort');
    assert.equal(res.toRevision, 1);
  });

  test('promoted → pinned undo to the previous template, then promoteFull', () => {
    const res = rolledBack(resolve(rollout(PROMOTED), { fromRevision: 2, toRevision: 1 }));
    assert.deepEqual(res.rollout, {
      type: 'undo',
      strategy: 'canary',
      badHash: 'h2',
      targetHash: 'h1',
      fastTrack: 'promoteFull',
      templateIn: { kind: 'Rollout', name: 'web' },
    });
    // The template Argo would find its old ReplicaSet by: no hash label.
    assert.deepEqual(res.to.template.metadata?.labels, { app: 'web' });
    assert.match(res.reason, /promote it fully once the controller has observed the new template/);
  });

  test('promoted with spec.rollbackWindow covering the target → Argo skips the steps itself', () => {
    const res = rolledBack(resolve(rollout(PROMOTED, { rollbackWindow: { revisions: 1 } })));
    assert.equal(res.rollout.type === 'undo' && res.rollout.fastTrack, 'rollbackWindow');
    assert.match(res.reason, /spec.rollbackWindow \(1 revisions\)/);
  });

  test('the window counts ReplicaSets created in between, and needs the target strictly older (whole seconds)', () => {
    const three = [rs('h1', 1, 'web:v1'), rs('hx', 2, 'web:vx'), rs('h2', 3, 'web:v2')];
    const ro = rollout(PROMOTED, { rollbackWindow: { revisions: 1 } });
    const fast = (sets: ReplicaSet[]) => {
      const res = rolledBack(resolve(ro, { sets }));
      return res.rollout.type === 'undo' ? res.rollout.fastTrack : undefined;
    };
    // Target is revision 2 (hx): nothing in between.
    assert.equal(fast(three), 'rollbackWindow');
    // Same creation second as the stable one: Argo's Before() is false.
    assert.equal(
      fast([rs('h1', 1, 'web:v1', { minute: 2 }), rs('h2', 2, 'web:v2')]),
      'promoteFull',
    );
  });

  test('blue-green is the same: abort in flight, undo + promoteFull once promoted', () => {
    const bg = { strategy: { blueGreen: { activeService: 'web' } } };
    const abort = rolledBack(resolve(rollout(IN_FLIGHT, bg)));
    assert.equal(abort.rollout.type, 'abort');
    assert.equal(abort.rollout.strategy, 'blueGreen');
    const undo = rolledBack(resolve(rollout(PROMOTED, bg)));
    assert.equal(undo.rollout.type === 'undo' && undo.rollout.fastTrack, 'promoteFull');
    assert.match(undo.reason, /no blue-green pause or analysis runs again/);
  });

  test('ephemeral metadata Argo injected into the ReplicaSet is not copied back', () => {
    const sets = [
      rs('h1', 1, 'web:v1', {
        labels: { role: 'stable' },
        annotations: { 'rollout.argoproj.io/ephemeral-metadata': '{"labels":{"role":"stable"}}' },
      }),
      rs('h2', 2, 'web:v2'),
    ];
    const res = rolledBack(resolve(rollout(PROMOTED), { sets }));
    assert.deepEqual(res.to.template.metadata?.labels, { app: 'web' });
  });

  test('workloadRef: the template comes from the Deployment, and the undo patches it', () => {
    const deployment: Workload = {
      metadata: { name: 'web-template', namespace: 'shop', generation: 7, annotations: {} },
      spec: { replicas: 0, template: tpl('web:v2') },
    };
    const ro = rollout(
      { ...PROMOTED, workloadObservedGeneration: '7' },
      {
        template: undefined,
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-template' },
      },
      { 'rollout.argoproj.io/workload-generation': '7' },
    );
    const res = rolledBack(resolve(ro, { reference: deployment }));
    assert.deepEqual(res.rollout.type === 'undo' && res.rollout.templateIn, {
      kind: 'Deployment',
      name: 'web-template',
    });
    assert.match(res.reason, /through the template of Deployment web-template \(workloadRef\)/);
    // A newer Deployment generation the controller has not taken yet: in flux.
    const newer = { ...deployment, metadata: { ...deployment.metadata, generation: 8 } };
    assert.match(
      resolve(ro, { reference: newer }).reason,
      /in flux: the controller has not taken the template of Deployment web-template at its generation 8/,
    );
    assert.match(resolve(ro).reason, /refers to Deployment web-template, which was not found/);
  });
});

describe('Rollout: defined outcomes that do not act', () => {
  const cases: Array<[string, ArgoRollout, RegExp]> = [
    [
      'not observed yet',
      rollout({ ...PROMOTED, observedGeneration: '3' }),
      /in flux: the Argo Rollouts controller has not observed generation 4/,
    ],
    [
      'paused by hand',
      rollout(IN_FLIGHT, { paused: true }),
      /paused by hand \(spec.paused\): a paused Rollout is not rolled back/,
    ],
    [
      'aborted by a human',
      rollout({
        ...IN_FLIGHT,
        abort: true,
        phase: 'Degraded',
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'RolloutAborted',
            message: 'Rollout aborted update to revision 2',
          },
        ],
      }),
      /revision 2 was already aborted \(status.abort is set: by a human or another tool\); traffic and scale are on the stable ReplicaSet \(revision 1\)/,
    ],
    [
      'aborted by its own analysis',
      rollout({
        ...IN_FLIGHT,
        abort: true,
        phase: 'Degraded',
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'RolloutAborted',
            message:
              'Rollout aborted update to revision 2: Metric "errors" assessed Failed due to failed (1) > failureLimit (0)',
          },
        ],
      }),
      /already aborted by the Rollout itself \(Metric "errors" assessed Failed/,
    ],
    [
      'invalid spec',
      rollout({
        ...PROMOTED,
        conditions: [{ type: 'InvalidSpec', status: 'True', message: 'bad steps' }],
      }),
      /invalid spec \(bad steps\)/,
    ],
    [
      'current template hash matches no ReplicaSet',
      rollout({ stableRS: 'h1', currentPodHash: 'h9' }),
      /in flux: no ReplicaSet of it carries the current template hash h9/,
    ],
    [
      'opted out',
      rollout(PROMOTED, {}, { 'rollback-controller.io/disabled': 'true' }),
      /opted out of automatic rollback/,
    ],
    [
      'workloadRef to a ReplicaSet',
      rollout(PROMOTED, { workloadRef: { kind: 'ReplicaSet', name: 'x' } }),
      /only a workloadRef to a Deployment is rolled back/,
    ],
  ];
  for (const [name, ro, reason] of cases) {
    test(`${name} → skip`, () => {
      const res = resolve(ro);
      assert.equal(res.action, 'skip');
      assert.match(res.reason, reason);
    });
  }

  test('pinned: moved on (a manual undo after the alert) → skip; pinned target gone → skip', () => {
    // Someone ran `kubectl argo rollouts undo`: revision 1's ReplicaSet is current again (renumbered 3).
    const undone = [
      rs('h1', 3, 'web:v1', {
        minute: 3,
        annotations: { 'rollout.argoproj.io/revision-history': '1' },
      }),
      rs('h2', 2, 'web:v2'),
    ];
    const moved = resolve(
      rollout({ stableRS: 'h2', currentPodHash: 'h1' }, { template: tpl('web:v1') }),
      {
        sets: undone,
        fromRevision: 2,
      },
    );
    assert.equal(moved.action, 'skip');
    assert.match(moved.reason, /workload moved on: revision 3 is current, alert was for 2/);
    const gone = resolve(rollout(PROMOTED), {
      sets: [rs('h0', 0, 'web:v0'), SETS[1]],
      toRevision: 1,
    });
    assert.match(gone.reason, /pinned target revision 1 of Rollout shop\/web no longer exists/);
  });

  test('never a rollback of a rollback; only a recent change is blamed', () => {
    const record = formatLastRollback({
      jobId: 'j1',
      alert: 'CriticalErrorRate',
      trigger: 't',
      fromRevision: 3,
      toRevision: 2,
      toName: 'web-h2',
      at: ALERT,
    });
    const again = resolve(rollout(PROMOTED), { sets: SETS }).action;
    assert.equal(again, 'rollback');
    const refused = resolve(
      rollout(PROMOTED, {}, { 'rollback-controller.io/last-rollback': record }),
    );
    assert.match(refused.reason, /refusing to roll back a rollback/);
    const old = resolveRollout(
      { rollout: rollout(PROMOTED), history: findRolloutRevisions(rollout(PROMOTED), SETS) },
      {
        job: { alert: { startsAt: '2025-01-09T00:00:00Z' } as never },
        optOutAnnotation: 'x',
        maxRevisionAgeSeconds: 3600,
      },
    );
    assert.match(old.reason, /the deploy is unlikely to be the cause/);
  });
});

describe('Rollout: requests', () => {
  test('abort and promoteFull are status merge patches guarded by resourceVersion', () => {
    assert.deepEqual(abortPatch('41'), {
      metadata: { resourceVersion: '41' },
      status: { abort: true },
    });
    assert.deepEqual(promoteFullPatch('42'), {
      metadata: { resourceVersion: '42' },
      status: { promoteFull: true },
    });
  });

  test('undo: test resourceVersion, replace /spec/template, add only our annotations', () => {
    const record = {
      jobId: 'j',
      alert: 'A',
      trigger: 't',
      fromRevision: 2,
      toRevision: 1,
      at: ALERT,
    };
    const ops = undoPatch(
      { metadata: { resourceVersion: '9', annotations: { 'rollout.argoproj.io/revision': '2' } } },
      tpl('web:v1'),
      record,
    );
    assert.deepEqual(ops.slice(0, 2), [
      { op: 'test', path: '/metadata/resourceVersion', value: '9' },
      { op: 'replace', path: '/spec/template', value: tpl('web:v1') },
    ]);
    assert.deepEqual(
      ops.slice(2).map((o) => o.path),
      [
        '/metadata/annotations/rollback-controller.io~1last-rollback',
        '/metadata/annotations/kubernetes.io~1change-cause',
      ],
    );
    const bare = undoPatch({ metadata: { resourceVersion: '9' } }, tpl('web:v1'), record);
    assert.equal(bare[2]?.path, '/metadata/annotations');
  });
});

describe('Rollout: following from its own status', () => {
  const asWorkload = (ro: ArgoRollout) => ro as unknown as Workload;
  const abortOurs = {
    generation: 4,
    argo: { action: 'abort' as const, targetHash: 'h1', badHash: 'h2' },
  };
  const undoOurs = {
    generation: 5,
    patchedAt: '2025-01-01T01:00:05Z',
    argo: {
      action: 'undo' as const,
      targetHash: 'h1',
      badHash: 'h2',
      fastTrack: 'promoteFull' as const,
    },
  };

  test('abort: waits for the controller, then for traffic and scale on stable; Degraded is the expected end', () => {
    const status = (s: ArgoRollout['status']) =>
      argoRolloutStatus(asWorkload(rollout(s)), abortOurs);
    assert.match(
      status({ ...IN_FLIGHT }).message,
      /waiting for the Argo Rollouts controller to take the abort/,
    );
    const taking = { ...IN_FLIGHT, abort: true, abortedAt: ALERT, phase: 'Degraded' };
    assert.match(
      status({ ...taking, updatedReplicas: 1, availableReplicas: 3 }).message,
      /traffic is still partly on h2/,
    );
    const done = status({ ...taking, updatedReplicas: 0, availableReplicas: 3 });
    assert.equal(done.done, true);
    assert.match(done.message, /aborted: traffic and 3 replicas back on the stable ReplicaSet h1/);
    assert.equal(status({ ...taking, stableRS: 'h2', currentPodHash: 'h2' }).failed, true);
  });

  test('abort, blue-green: the active selector decides', () => {
    const bg = (active: string) =>
      argoRolloutStatus(
        asWorkload(
          rollout(
            {
              ...IN_FLIGHT,
              abort: true,
              abortedAt: ALERT,
              availableReplicas: 6,
              updatedReplicas: 3,
              blueGreen: { activeSelector: active },
            },
            { strategy: { blueGreen: { activeService: 'web' } } },
          ),
        ),
        abortOurs,
      );
    assert.equal(bg('h1').done, true);
    assert.equal(bg('h2').done, false);
  });

  test('undo: waits for our generation, then for the target to be stable and Healthy', () => {
    const at = (s: ArgoRollout['status'], generation = 5) => {
      const ro = rollout({ observedGeneration: String(generation), ...s });
      ro.metadata.generation = generation;
      return argoRolloutStatus(asWorkload(ro), undoOurs);
    };
    assert.match(at({ ...PROMOTED, observedGeneration: '4' }).message, /observe the new spec/);
    assert.match(
      at({
        stableRS: 'h2',
        currentPodHash: 'h1',
        phase: 'Progressing',
        message: 'more replicas need to be updated',
      }).message,
      /Progressing: more replicas need to be updated/,
    );
    const done = at({
      stableRS: 'h1',
      currentPodHash: 'h1',
      phase: 'Healthy',
      availableReplicas: 3,
    });
    assert.equal(done.done, true);
    assert.equal(at({ stableRS: 'h1', currentPodHash: 'h1' }, 6).failed, true);
  });

  test('undo: a deadline condition left from the bad revision never fails it; a new one does', () => {
    const cond = (lastUpdateTime: string) => ({
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "web-h1" has timed out progressing.',
      lastUpdateTime,
    });
    const at = (time: string) => {
      const ro = rollout({
        observedGeneration: '5',
        stableRS: 'h2',
        currentPodHash: 'h1',
        phase: 'Degraded',
        conditions: [cond(time)],
      });
      ro.metadata.generation = 5;
      return argoRolloutStatus(asWorkload(ro), undoOurs);
    };
    assert.equal(at('2025-01-01T00:59:00Z').failed, false);
    assert.equal(at('2025-01-01T01:09:00Z').failed, true);
  });
});

describe('Rollout: recover() finds its own request after a restart that lost `patched`', () => {
  const JOB = {
    id: 'job-7',
    // Accepted at 01:00:30 (a job adopted after a failover keeps this time), started later.
    createdAt: '2025-01-01T01:00:30.400Z',
    startedAt: '2025-01-01T01:00:45.000Z',
    fromRevision: 2,
    toRevision: 1,
  };
  const record = (jobId: string) =>
    formatLastRollback({
      jobId,
      alert: 'CriticalErrorRate',
      trigger: 'error_rate_threshold',
      fromRevision: 2,
      toRevision: 1,
      toName: 'web-h1',
      at: '2025-01-01T01:00:31.000Z',
    });
  const landed = (ro: ArgoRollout, o: { sets?: ReplicaSet[]; reference?: Workload } = {}) =>
    landedRolloutRequest(
      JOB,
      {
        workload: ro as unknown as Workload,
        history: findRolloutRevisions(ro, o.sets ?? SETS),
        ...(o.reference ? { reference: o.reference } : {}),
      },
      'rollback-controller',
    );
  const abortEntry = (manager: string, time: string) => ({
    manager,
    operation: 'Update',
    subresource: 'status',
    time,
    fieldsV1: { 'f:status': { 'f:abort': {} } },
  });
  const aborted = (managedFields: unknown[]) => {
    const ro = rollout({ ...IN_FLIGHT, abort: true, abortedAt: '2025-01-01T01:00:31Z' });
    ro.metadata.managedFields = managedFields as never;
    return ro;
  };

  test('abort: status.abort owned by our field manager since the job was accepted → ours, follow it', () => {
    const found = landed(aborted([abortEntry('rollback-controller', '2025-01-01T01:00:30Z')]));
    assert.deepEqual(found, {
      patched: true,
      actedAt: '2025-01-01T01:00:30Z',
      fromRevision: 2,
      toRevision: 1,
      rollout: {
        generation: 4,
        patchedAt: '2025-01-01T01:00:30Z',
        argo: { action: 'abort', targetHash: 'h1', badHash: 'h2' },
      },
    });
  });

  test("abort: a human's abort, ours from before the job, or another revision's → not ours", () => {
    assert.equal(
      landed(aborted([abortEntry('kubectl-argo-rollouts', '2025-01-01T01:00:31Z')])),
      undefined,
    );
    // Our manager's last write to status.abort was in an earlier second than the job's creation.
    assert.equal(
      landed(aborted([abortEntry('rollback-controller', '2025-01-01T01:00:29Z')])),
      undefined,
    );
    // Our status write that set only promoteFull does not own abort.
    const promoteOnly = {
      ...abortEntry('rollback-controller', '2025-01-01T01:00:31Z'),
      fieldsV1: { 'f:status': { 'f:promoteFull': {} } },
    };
    assert.equal(landed(aborted([promoteOnly])), undefined);
    const sets = [...SETS, rs('h3', 3, 'web:v3')];
    const onThree = rollout({ stableRS: 'h1', currentPodHash: 'h3', abort: true });
    onThree.metadata.managedFields = [abortEntry('rollback-controller', '2025-01-01T01:00:31Z')];
    assert.equal(landed(onThree, { sets }), undefined);
    // Not aborted at all: nothing landed, execute() decides.
    assert.equal(landed(rollout(IN_FLIGHT)), undefined);
  });

  test('undo on the Rollout: our record → undo with promoteFull, the target found by name after Argo renumbered it', () => {
    // Argo reused v1's ReplicaSet as revision 3 (revision-history 1); the record names it.
    const sets = [
      rs('h1', 3, 'web:v1', { annotations: { 'rollout.argoproj.io/revision-history': '1' } }),
      rs('h2', 2, 'web:v2'),
    ];
    const ro = rollout(
      { stableRS: 'h2', currentPodHash: 'h1', observedGeneration: '5' },
      { template: tpl('web:v1') },
      { 'rollback-controller.io/last-rollback': record('job-7') },
    );
    ro.metadata.generation = 5;
    const found = landed(ro, { sets });
    // The record's revisions and time become the job's, as if the journal had kept them.
    assert.deepEqual(
      [found?.fromRevision, found?.toRevision, found?.actedAt],
      [2, 1, '2025-01-01T01:00:31.000Z'],
    );
    assert.deepEqual(found?.rollout, {
      generation: 5,
      argo: { action: 'undo', targetHash: 'h1', badHash: 'h2', fastTrack: 'promoteFull' },
    });
    // Another job's record: not this job's request.
    const other = rollout(
      PROMOTED,
      {},
      { 'rollback-controller.io/last-rollback': record('job-6') },
    );
    assert.equal(landed(other), undefined);
  });

  test('undo with spec.rollbackWindow covering the target → fast-track left to Argo', () => {
    const ro = rollout(
      PROMOTED,
      { rollbackWindow: { revisions: 2 } },
      { 'rollback-controller.io/last-rollback': record('job-7') },
    );
    assert.equal(landed(ro)?.rollout.argo?.fastTrack, 'rollbackWindow');
  });

  test('workloadRef undo: the record is on the Deployment; its generation is the one to wait for', () => {
    const deployment: Workload = {
      metadata: {
        name: 'web-template',
        namespace: 'shop',
        generation: 8,
        annotations: { 'rollback-controller.io/last-rollback': record('job-7') },
      },
      spec: { replicas: 0, template: tpl('web:v1') },
    };
    const ro = rollout(
      { ...PROMOTED, workloadObservedGeneration: '7' },
      {
        template: undefined,
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-template' },
      },
      { 'rollout.argoproj.io/workload-generation': '7' },
    );
    assert.deepEqual(landed(ro, { reference: deployment })?.rollout, {
      generation: 4,
      argo: {
        action: 'undo',
        targetHash: 'h1',
        badHash: 'h2',
        fastTrack: 'promoteFull',
        workloadGeneration: 8,
      },
    });
    // The Rollout itself carries no record: without the Deployment, nothing landed.
    assert.equal(landed(ro), undefined);
  });
});
