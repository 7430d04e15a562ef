import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { resolveRollback } from '../../src/executors/kubernetes/resolve-rollback.js';
import { latestInstant } from '../../src/executors/kubernetes/became-current.js';
import { restartOnly } from '../../src/executors/kubernetes/restart-only.js';
import { findDeploymentRevisions } from '../../src/executors/kubernetes/find-deployment-revisions.js';
import { formatLastRollback } from '../../src/kube/last-rollback.js';
import type { PodTemplate, ReplicaSet, Workload } from '../../src/kube/kube-types.js';

const OPT_OUT = 'rollback-controller.io/disabled';
const tpl = (image: string): PodTemplate => ({ spec: { containers: [{ name: 'web', image }] } });
const rs = (
  name: string,
  revision: number,
  image: string,
  extra: Record<string, string> = {},
): ReplicaSet => ({
  metadata: {
    name,
    creationTimestamp: `2025-01-01T00:0${revision}:00Z`,
    annotations: { 'deployment.kubernetes.io/revision': String(revision), ...extra },
    ownerReferences: [{ uid: 'u', controller: true }],
  },
  spec: { template: tpl(image) },
});
const dep = (
  image: string,
  opts: { paused?: boolean; annotations?: Record<string, string> } = {},
): Workload => ({
  metadata: { name: 'web', namespace: 'prod', uid: 'u', annotations: opts.annotations ?? {} },
  spec: { template: tpl(image), ...(opts.paused ? { paused: true } : {}) },
});
const alert = { startsAt: '2025-01-01T01:00:00Z' } as never;
/** The record of our job j0 that rolled back 2 → 1 (ReplicaSet web-a). */
const ourRollbackOf1 = () => ({
  'rollback-controller.io/last-rollback': formatLastRollback({
    jobId: 'j0',
    alert: 'A',
    trigger: 't',
    fromRevision: 2,
    toRevision: 1,
    toName: 'web-a',
    at: 'x',
  }),
});
const v1v2 = [rs('web-a', 1, 'v1'), rs('web-b', 2, 'v2')];

function resolve(
  workload: Workload,
  replicaSets: ReplicaSet[],
  fromRevision?: number,
  extra: { toRevision?: number; maxRevisionAgeSeconds?: number } = {},
) {
  return resolveRollback({
    kind: 'Deployment',
    workload,
    history: findDeploymentRevisions(workload, replicaSets),
    job: {
      alert,
      ...(fromRevision === undefined ? {} : { fromRevision }),
      ...(extra.toRevision === undefined ? {} : { toRevision: extra.toRevision }),
    },
    optOutAnnotation: OPT_OUT,
    maxRevisionAgeSeconds: extra.maxRevisionAgeSeconds ?? 86_400,
  });
}

/** A managedFields entry as the API server writes it for an Update that set the pod template. */
const templateWriter = (manager: string, time: string) => ({
  manager,
  operation: 'Update',
  apiVersion: 'apps/v1',
  time,
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': {} } } } },
});
/** v1 (web-a) → v2 (web-b) → manual undo: web-a reused as revision 3, created long before. */
const undone = [
  rs('web-a', 3, 'v1', { 'deployment.kubernetes.io/revision-history': '1' }),
  rs('web-b', 2, 'v2'),
];

describe('resolveRollback', () => {
  test('v2 → v1 with image changes', () => {
    const r = resolve(dep('v2'), v1v2, 2);
    assert.equal(r.action, 'rollback');
    assert.equal(r.action === 'rollback' && r.to.name, 'web-a');
    assert.deepEqual(r.action === 'rollback' && [r.fromRevision, r.toRevision, r.images], [
      2,
      1,
      [{ container: 'web', from: 'v2', to: 'v1' }],
    ]);
  });

  const skips: Array<[string, Workload, ReplicaSet[], number | undefined, RegExp]> = [
    [
      'opt-out annotation "true"',
      dep('v2', { annotations: { [OPT_OUT]: 'true' } }),
      v1v2,
      2,
      /opted out/,
    ],
    ['paused Deployment', dep('v2', { paused: true }), v1v2, 2, /paused/],
    ['no earlier revision', dep('v1'), [rs('web-a', 1, 'v1')], 1, /no earlier revision/],
    [
      'moved on: a newer deploy',
      dep('v3'),
      [...v1v2, rs('web-c', 3, 'v3')],
      2,
      /^workload moved on: revision 3 is current, alert was for 2$/,
    ],
    [
      'rollback of our own rollback (renumbered ReplicaSet, matched by name)',
      dep('v1', {
        annotations: {
          'rollback-controller.io/last-rollback': formatLastRollback({
            jobId: 'j0',
            alert: 'A',
            trigger: 't',
            fromRevision: 2,
            toRevision: 1,
            toName: 'web-a',
            at: 'x',
          }),
        },
      }),
      [
        rs('web-a', 3, 'v1', { 'deployment.kubernetes.io/revision-history': '1' }),
        rs('web-b', 2, 'v2'),
      ],
      3,
      /refusing to roll back a rollback/,
    ],
    [
      'rollback of a rollback recorded without a name (revision-history)',
      dep('v1', {
        annotations: {
          'rollback-controller.io/last-rollback': JSON.stringify({
            jobId: 'j0',
            alert: 'A',
            trigger: 't',
            fromRevision: 2,
            toRevision: 1,
            at: 'x',
          }),
        },
      }),
      [
        rs('web-a', 3, 'v1', { 'deployment.kubernetes.io/revision-history': '1' }),
        rs('web-b', 2, 'v2'),
      ],
      undefined,
      /refusing to roll back a rollback/,
    ],
    [
      'current revision created after the alert started',
      dep('v2'),
      [
        rs('web-a', 1, 'v1'),
        {
          ...rs('web-b', 2, 'v2'),
          metadata: { ...rs('web-b', 2, 'v2').metadata, creationTimestamp: '2025-01-01T02:00:00Z' },
        },
      ],
      2,
      /^workload moved on: revision 2 became current at 2025-01-01T02:00:00Z, after the alert started/,
    ],
  ];
  for (const [name, workload, replicaSets, from, reason] of skips) {
    test(`skip: ${name}`, () => {
      const r = resolve(workload, replicaSets, from);
      assert.equal(r.action, 'skip');
      assert.match(r.reason, reason);
    });
  }

  test('an older rollback record does not block a newer deploy', () => {
    const annotations = ourRollbackOf1();
    const r = resolve(dep('v4', { annotations }), [rs('web-a', 3, 'v1'), rs('web-d', 4, 'v4')], 4);
    assert.equal(r.action, 'rollback');
    assert.equal(r.toRevision, 3);
  });

  test('opt-out with another value does not skip', () => {
    assert.equal(
      resolve(dep('v2', { annotations: { [OPT_OUT]: 'false' } }), v1v2, 2).action,
      'rollback',
    );
  });

  describe('when the current revision became current (a reused ReplicaSet keeps its creation time)', () => {
    test('manual undo after the alert started: moved on, by the template writer time', () => {
      const w = dep('v1');
      w.metadata.managedFields = [
        templateWriter('kubectl-client-side-apply', '2025-01-01T00:00:00Z'),
        templateWriter('kubectl-rollout', '2025-01-01T01:30:00Z'),
        // Status writes are not template writes, whatever their time.
        {
          ...templateWriter('kube-controller-manager', '2025-01-01T01:40:00Z'),
          subresource: 'status',
        },
      ];
      const r = resolve(w, undone);
      assert.equal(r.action, 'skip');
      assert.equal(
        r.reason,
        'workload moved on: revision 3 became current at 2025-01-01T01:30:00Z, after the alert started at 2025-01-01T01:00:00Z (ReplicaSet web-a reused; pod template last written by kubectl-rollout at 2025-01-01T01:30:00Z)',
      );
    });

    test('manual undo before the alert started: that revision is the one to blame', () => {
      const w = dep('v1');
      w.metadata.managedFields = [templateWriter('kubectl-rollout', '2025-01-01T00:30:00Z')];
      const r = resolve(w, undone);
      assert.equal(r.action, 'rollback', r.reason);
      assert.equal(r.toRevision, 2);
    });

    test('reused, no template writer recorded: the ReplicaSet renumbering time decides', () => {
      const current = undone[0];
      const renumbered: ReplicaSet = {
        ...current,
        metadata: {
          ...current.metadata,
          managedFields: [
            {
              manager: 'kube-controller-manager',
              operation: 'Update',
              time: '2025-01-01T01:05:00Z',
            },
          ],
        },
      };
      const r = resolve(dep('v1'), [renumbered, undone[1]]);
      assert.equal(r.action, 'skip');
      assert.match(
        r.reason,
        /^workload moved on: revision 3 became current at 2025-01-01T01:05:00Z/,
      );
    });

    test('reused and no time recorded anywhere: skipped, never guessed from the creation time', () => {
      const r = resolve(dep('v1'), undone);
      assert.equal(r.action, 'skip');
      assert.match(
        r.reason,
        /^cannot tell when revision 3 became current \(ReplicaSet web-a was reused/,
      );
    });
  });

  describe('policy.maxRevisionAgeSeconds: only a recent change is blamed', () => {
    const old = [rs('web-a', 1, 'v1'), rs('web-b', 2, 'v2')];
    // web-b created 2025-01-01T00:02:00Z; the alert starts at 01:00 (58 min later).
    test('current for longer than the limit: skipped with its age', () => {
      const r = resolve(dep('v2'), old, 2, { maxRevisionAgeSeconds: 3000 });
      assert.equal(r.action, 'skip');
      assert.equal(
        r.reason,
        'revision 2 has been running since 2025-01-01T00:02:00Z, 58 min before the alert: the deploy is unlikely to be the cause (policy.maxRevisionAgeSeconds: 3000)',
      );
    });
    test('days old', () => {
      const w = dep('v2');
      const ancient = old.map((r) => ({
        ...r,
        metadata: { ...r.metadata, creationTimestamp: '2024-12-29T00:00:00Z' },
      }));
      const r = resolve(w, ancient, 2);
      assert.match(
        r.reason,
        /, 3 days 1 h before the alert: the deploy is unlikely to be the cause/,
      );
    });
    test('within the limit, or 0 (no limit): rolled back', () => {
      assert.equal(resolve(dep('v2'), old, 2, { maxRevisionAgeSeconds: 3600 }).action, 'rollback');
      assert.equal(resolve(dep('v2'), old, 2, { maxRevisionAgeSeconds: 0 }).action, 'rollback');
    });
  });

  test('the pinned target revision is gone: skipped, never one further back', () => {
    const three = [rs('web-z', 1, 'v0'), rs('web-b', 3, 'v2')];
    const r = resolve(dep('v2'), three, 3, { toRevision: 2 });
    assert.equal(r.action, 'skip');
    assert.equal(
      r.reason,
      'the pinned target revision 2 of Deployment prod/web no longer exists (the next older one is 1; not going further back than what was chosen)',
    );
    const still = resolve(dep('v2'), [...three, rs('web-a', 2, 'v1')], 3, { toRevision: 2 });
    assert.equal(still.action, 'rollback');
  });

  describe('opt-out annotation: any value but false, no or 0 (any case) opts out', () => {
    for (const value of ['true', 'True', 'TRUE', 'yes', '1', '', 'disabled', 'on']) {
      test(`${JSON.stringify(value)} opts out`, () => {
        const r = resolve(dep('v2', { annotations: { [OPT_OUT]: value } }), v1v2, 2);
        assert.equal(r.action, 'skip');
        assert.match(r.reason, /opted out of automatic rollback/);
      });
    }
    for (const value of ['false', 'False', 'NO', 'no', '0', ' false ']) {
      test(`${JSON.stringify(value)} keeps it in`, () => {
        const r = resolve(dep('v2', { annotations: { [OPT_OUT]: value } }), v1v2, 2);
        assert.equal(r.action, 'rollback', r.reason);
      });
    }
  });

  test('template already matches the target revision', () => {
    // Two ReplicaSets with the same template cannot coexist in a cluster, but a fake or a race can
    // produce one; kubectl skips with "current template already matches".
    const r = resolve(dep('v1'), [rs('web-a', 1, 'v1'), rs('web-b', 2, 'v1')], 2);
    assert.equal(r.action, 'skip');
    assert.match(r.reason, /already matches revision 1/);
  });
});

describe('issue 22: in flux, times that err late, restarts', () => {
  const restarted = (image: string, at: string): PodTemplate => ({
    metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } },
    spec: { containers: [{ name: 'web', image }] },
  });
  const rsOf = (name: string, revision: number, template: PodTemplate): ReplicaSet => ({
    ...rs(name, revision, 'unused'),
    spec: { template },
  });

  test('in flux: a deploy no ReplicaSet holds yet is never undone (the annotation says 2)', () => {
    const w = dep('v3', { annotations: { 'deployment.kubernetes.io/revision': '2' } });
    const r = resolve(w, v1v2);
    assert.equal(r.action, 'skip');
    assert.equal(
      r.reason,
      'Deployment prod/web is in flux: its pod template matches none of its ReplicaSets (a change the deployment controller has not rolled out yet); not rolled back, so a newer deploy is never undone (send the alert again once the rollout is processed)',
    );
  });

  test('whole-second times stand for the latest instant they may mean', () => {
    assert.equal(latestInstant('2025-01-01T01:00:00Z'), Date.parse('2025-01-01T01:00:00.999Z'));
    assert.equal(latestInstant('2025-01-01T01:00:00.250Z'), Date.parse('2025-01-01T01:00:00.250Z'));
    // As the client library hands them out: a whole second with a zero fraction.
    assert.equal(latestInstant('2025-01-01T01:00:00.000Z'), Date.parse('2025-01-01T01:00:00.999Z'));
  });

  test('a deploy in the alert’s own second is not "before the alert": skipped', () => {
    const r = resolveRollback({
      kind: 'Deployment',
      workload: dep('v3'),
      history: findDeploymentRevisions(dep('v3'), [
        ...v1v2,
        {
          ...rs('web-c', 3, 'v3'),
          metadata: { ...rs('web-c', 3, 'v3').metadata, creationTimestamp: '2025-01-01T01:00:00Z' },
        },
      ]),
      job: { alert: { startsAt: '2025-01-01T01:00:00.002Z' } as never },
      optOutAnnotation: OPT_OUT,
      maxRevisionAgeSeconds: 86_400,
    });
    assert.equal(r.action, 'skip');
    assert.match(
      r.reason,
      /^workload moved on: revision 3 became current at 2025-01-01T01:00:00Z, within the same second as the alert start, so possibly after it/,
    );
  });

  test('a late template-writer time (replicas-only apply) never makes a restored revision young enough', () => {
    // v1 → v2 → human undo (web-a reused as 3) → a replicas-only apply at 00:59:50 by the
    // manager that owns template fields moves its time: the undo itself was long before.
    const w = dep('v1');
    w.metadata.managedFields = [
      templateWriter('kubectl-client-side-apply', '2025-01-01T00:59:50Z'),
    ];
    const r = resolve(w, undone, undefined, { maxRevisionAgeSeconds: 600 });
    assert.equal(r.action, 'skip');
    assert.equal(
      r.reason,
      'revision 3 may have been running since 2025-01-01T00:02:00Z (it was reused, and revision 2 (web-b), created at 2025-01-01T00:02:00Z, came before it; no later time is certain), 58 min before the alert: a change that may be that old is not blamed (policy.maxRevisionAgeSeconds: 600)',
    );
    // No limit: the late time still decides "moved on" only (before the alert: rolled back).
    assert.equal(resolve(w, undone, undefined, { maxRevisionAgeSeconds: 0 }).action, 'rollback');
  });

  test('a restart-only revision is not the deploy: 3 (restart of 2) → back to 1, restart dropped', () => {
    const w: Workload = {
      ...dep('v2'),
      spec: { template: restarted('v2', '2025-01-01T00:30:00Z') },
    };
    const history = [...v1v2, rsOf('web-c', 3, restarted('v2', '2025-01-01T00:30:00Z'))];
    const r = resolve(w, history, 3);
    assert.equal(r.action, 'rollback', r.reason);
    assert.equal(r.action === 'rollback' && r.to.name, 'web-a');
    assert.deepEqual([r.fromRevision, r.toRevision], [3, 1]);
    assert.equal(
      r.reason,
      "roll back Deployment prod/web from revision 3 to 1 (revision 3 only restarted revision 2, the deploy blamed; the restart is dropped: revision 1's template is restored as it was, and the rollback replaces every pod anyway)",
    );
    // Two restarts on top, and a job pinned to the deploy itself before the restarts.
    const twice = [...history, rsOf('web-d', 4, restarted('v2', '2025-01-01T00:40:00Z'))];
    const w4: Workload = {
      ...dep('v2'),
      spec: { template: restarted('v2', '2025-01-01T00:40:00Z') },
    };
    const r4 = resolve(w4, twice, 2);
    assert.equal(r4.action, 'rollback', r4.reason);
    assert.deepEqual([r4.fromRevision, r4.toRevision], [4, 1]);
    assert.match(r4.reason, /revision 4 and 3 only restarted revision 2/);
  });

  test('a restart on top of our own rollback is still a rollback of a rollback', () => {
    const annotations = ourRollbackOf1();
    const w: Workload = {
      ...dep('v1', { annotations }),
      spec: { template: restarted('v1', '2025-01-01T00:50:00Z') },
    };
    const r = resolve(w, [...undone, rsOf('web-c', 4, restarted('v1', '2025-01-01T00:50:00Z'))]);
    assert.equal(r.action, 'skip');
    assert.match(r.reason, /^refusing to roll back a rollback: revision 3 was restored by job j0/);
  });

  test('restartOnly: only restart annotations differ', () => {
    assert.equal(restartOnly(restarted('v2', 'a'), tpl('v2')), true);
    assert.equal(restartOnly(restarted('v2', 'a'), restarted('v2', 'b')), true);
    assert.equal(restartOnly(restarted('v3', 'a'), tpl('v2')), false);
    assert.equal(restartOnly(tpl('v2'), tpl('v2')), false);
  });
});
