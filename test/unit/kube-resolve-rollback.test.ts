import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { resolveRollback } from '../../src/executors/kubernetes/resolve-rollback.js';
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
const v1v2 = [rs('web-a', 1, 'v1'), rs('web-b', 2, 'v2')];

function resolve(workload: Workload, replicaSets: ReplicaSet[], fromRevision?: number) {
  return resolveRollback({
    kind: 'Deployment',
    workload,
    history: findDeploymentRevisions(workload, replicaSets),
    job: { alert, ...(fromRevision === undefined ? {} : { fromRevision }) },
    optOutAnnotation: OPT_OUT,
  });
}

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
      /after the alert started/,
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
    const annotations = {
      'rollback-controller.io/last-rollback': formatLastRollback({
        jobId: 'j0',
        alert: 'A',
        trigger: 't',
        fromRevision: 2,
        toRevision: 1,
        toName: 'web-a',
        at: 'x',
      }),
    };
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

  test('template already matches the target revision', () => {
    // Two ReplicaSets with the same template cannot coexist in a cluster, but a fake or a race can
    // produce one; kubectl skips with "current template already matches".
    const r = resolve(dep('v1'), [rs('web-a', 1, 'v1'), rs('web-b', 2, 'v1')], 2);
    assert.equal(r.action, 'skip');
    assert.match(r.reason, /already matches revision 1/);
  });
});
