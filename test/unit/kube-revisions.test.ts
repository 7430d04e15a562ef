import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { findDeploymentRevisions } from '../../src/executors/kubernetes/find-deployment-revisions.js';
import { findControllerRevisions } from '../../src/executors/kubernetes/find-controller-revisions.js';
import { templatesEqual } from '../../src/executors/kubernetes/templates-equal.js';
import type {
  ControllerRevision,
  PodTemplate,
  ReplicaSet,
  Workload,
} from '../../src/kube/kube-types.js';

const UID = 'dep-uid';
const tpl = (image: string, hash?: string): PodTemplate => ({
  metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } },
  spec: { containers: [{ name: 'web', image }] },
});
const deployment = (image: string, annotations: Record<string, string> = {}): Workload => ({
  metadata: { name: 'web', namespace: 'prod', uid: UID, annotations },
  spec: { selector: { matchLabels: { app: 'web' } }, template: tpl(image) },
});
const rs = (
  name: string,
  revision: string | undefined,
  image: string,
  owner: { uid: string; controller?: boolean } = { uid: UID, controller: true },
  extra: Record<string, string> = {},
): ReplicaSet => ({
  metadata: {
    name,
    annotations: {
      ...(revision === undefined ? {} : { 'deployment.kubernetes.io/revision': revision }),
      ...extra,
    },
    ownerReferences: [{ kind: 'Deployment', name: 'web', ...owner }],
  },
  spec: { template: tpl(image, name.split('-')[1]) },
});

describe('findDeploymentRevisions', () => {
  const cases: Array<{
    name: string;
    deployment: Workload;
    replicaSets: ReplicaSet[];
    current: number;
    previous: number | undefined;
    entries: number[];
  }> = [
    {
      name: 'v1 → v2: current 2, previous 1',
      deployment: deployment('web:v2'),
      replicaSets: [rs('web-a', '1', 'web:v1'), rs('web-b', '2', 'web:v2')],
      current: 2,
      previous: 1,
      entries: [1, 2],
    },
    {
      name: 'only one revision: no previous',
      deployment: deployment('web:v1'),
      replicaSets: [rs('web-a', '1', 'web:v1')],
      current: 1,
      previous: undefined,
      entries: [1],
    },
    {
      name: 'ReplicaSets of another owner or not the controller are ignored',
      deployment: deployment('web:v2'),
      replicaSets: [
        rs('web-a', '1', 'web:v1', { uid: 'other' }),
        rs('web-c', '1', 'web:v0', { uid: UID, controller: false }),
        rs('web-b', '2', 'web:v2'),
      ],
      current: 2,
      previous: undefined,
      entries: [2],
    },
    {
      name: 'missing revision annotation counts as 0, unparsable is ignored',
      deployment: deployment('web:v2'),
      replicaSets: [
        rs('web-a', undefined, 'web:v1'),
        rs('web-x', 'x', 'web:vx'),
        rs('web-b', '2', 'web:v2'),
      ],
      current: 2,
      previous: 0,
      entries: [0, 2],
    },
    {
      name: 'current is the matching template, not the highest number (rolled back, not yet renumbered)',
      deployment: deployment('web:v1'),
      replicaSets: [
        rs('web-a', '1', 'web:v1'),
        rs('web-b', '2', 'web:v2'),
        rs('web-c', '3', 'web:v3'),
      ],
      current: 1,
      previous: undefined,
      entries: [1, 2, 3],
    },
    {
      name: 'three revisions: previous is the newest older one',
      deployment: deployment('web:v3'),
      replicaSets: [
        rs('web-b', '2', 'web:v2'),
        rs('web-c', '3', 'web:v3'),
        rs('web-a', '1', 'web:v1'),
      ],
      current: 3,
      previous: 2,
      entries: [1, 2, 3],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const h = findDeploymentRevisions(c.deployment, c.replicaSets);
      assert.equal(h.currentRevision, c.current);
      assert.equal(h.previous?.revision, c.previous);
      assert.deepEqual(
        h.entries.map((e) => e.revision),
        c.entries,
      );
    });
  }

  test('in flux: no ReplicaSet holds the template (a deploy not processed yet); the annotation and the newest ReplicaSet are not trusted', () => {
    const h = findDeploymentRevisions(
      deployment('web:v3', { 'deployment.kubernetes.io/revision': '2' }),
      [rs('web-a', '1', 'web:v1'), rs('web-b', '2', 'web:v2')],
    );
    assert.equal(h.currentRevision, 0);
    assert.equal(h.current, undefined);
    assert.match(h.inFlux ?? '', /matches none of its ReplicaSets/);
  });

  test('in flux: status has not observed the current generation, even when a ReplicaSet matches', () => {
    const d = { ...deployment('web:v1'), status: { observedGeneration: 3 } };
    d.metadata.generation = 4;
    const h = findDeploymentRevisions(d, [rs('web-a', '1', 'web:v1'), rs('web-b', '2', 'web:v2')]);
    assert.equal(h.current, undefined);
    assert.equal(
      h.inFlux,
      'the deployment controller has not processed generation 4 of its spec yet (status.observedGeneration 3): a newer change is in flux',
    );
    d.status.observedGeneration = 4;
    assert.equal(findDeploymentRevisions(d, [rs('web-a', '1', 'web:v1')]).currentRevision, 1);
  });

  test('keeps the ReplicaSet annotations and revision-history', () => {
    const h = findDeploymentRevisions(deployment('web:v1'), [
      rs('web-a', '3', 'web:v1', undefined, { 'deployment.kubernetes.io/revision-history': '1' }),
      rs('web-b', '2', 'web:v2'),
    ]);
    assert.equal(h.current?.name, 'web-a');
    assert.deepEqual(h.current?.previousRevisions, [1]);
    assert.equal(h.previous?.annotations?.['deployment.kubernetes.io/revision'], '2');
  });
});

describe('findControllerRevisions', () => {
  const cr = (
    name: string,
    revision: number,
    image: string,
    uid = 'sts-uid',
  ): ControllerRevision => ({
    metadata: { name, ownerReferences: [{ uid, controller: true }] },
    revision,
    data: { spec: { template: { ...tpl(image), $patch: 'replace' } } },
  });
  const sts = (image: string, status: Workload['status'] = {}): Workload => ({
    metadata: { name: 'db', namespace: 'prod', uid: 'sts-uid' },
    spec: { template: tpl(image) },
    status,
  });

  test('StatefulSet: current is status.updateRevision, previous the newest older one', () => {
    const h = findControllerRevisions('StatefulSet', sts('web:v2', { updateRevision: 'db-2' }), [
      cr('db-2', 2, 'web:v2'),
      cr('db-1', 1, 'web:v1'),
      cr('db-x', 1, 'web:vx', 'someone-else'),
    ]);
    assert.equal(h.currentRevision, 2);
    assert.equal(h.previous?.name, 'db-1');
    assert.deepEqual(h.previous?.template, tpl('web:v1'));
    assert.deepEqual(h.previous?.data, cr('db-1', 1, 'web:v1').data);
    assert.equal(h.entries.length, 2);
  });

  test('DaemonSet: current is the revision matching the template', () => {
    const h = findControllerRevisions('DaemonSet', sts('web:v1'), [
      cr('db-1', 1, 'web:v0'),
      cr('db-2', 2, 'web:v1'),
      cr('db-3', 3, 'web:v2'),
    ]);
    assert.equal(h.currentRevision, 2);
    assert.equal(h.previous?.revision, 1);
  });

  test('no match: in flux (DaemonSet); a single revision has no previous', () => {
    const h = findControllerRevisions('DaemonSet', sts('web:v9'), [cr('db-1', 1, 'web:v1')]);
    assert.equal(h.current, undefined);
    assert.match(h.inFlux ?? '', /matches none of its ControllerRevisions/);
    const one = findControllerRevisions('DaemonSet', sts('web:v1'), [cr('db-1', 1, 'web:v1')]);
    assert.equal(one.currentRevision, 1);
    assert.equal(one.previous, undefined);
  });

  test('StatefulSet: status.updateRevision is not trusted before status.observedGeneration catches up', () => {
    const frozen = sts('web:v3', { updateRevision: 'db-2', observedGeneration: 2 });
    frozen.metadata.generation = 3;
    const h = findControllerRevisions('StatefulSet', frozen, [
      cr('db-1', 1, 'web:v1'),
      cr('db-2', 2, 'web:v2'),
    ]);
    assert.equal(h.current, undefined);
    assert.match(h.inFlux ?? '', /statefulset controller has not processed generation 3/);
    // Observed, but updateRevision names a revision with another template: the template decides.
    frozen.status = { updateRevision: 'db-2', observedGeneration: 3 };
    frozen.spec.template = tpl('web:v1');
    const observed = findControllerRevisions('StatefulSet', frozen, [
      cr('db-1', 1, 'web:v1'),
      cr('db-2', 2, 'web:v2'),
    ]);
    assert.equal(observed.current?.name, 'db-1');
  });
});

describe('templatesEqual', () => {
  const cases: Array<[string, PodTemplate | undefined, PodTemplate | undefined, boolean]> = [
    ['pod-template-hash is ignored', tpl('a', 'h1'), tpl('a'), true],
    ['different images differ', tpl('a'), tpl('b'), false],
    [
      'key order, null and empty fields do not matter',
      {
        spec: { containers: [{ name: 'c', image: 'a', env: [] }] },
        metadata: { creationTimestamp: null },
      } as never,
      { metadata: {}, spec: { containers: [{ image: 'a', name: 'c' }] } },
      true,
    ],
    [
      'an extra label differs',
      { metadata: { labels: { a: '1' } } },
      { metadata: { labels: { a: '1', b: '2' } } },
      false,
    ],
    ['undefined equals empty', undefined, {}, true],
  ];
  for (const [name, a, b, expected] of cases) {
    test(name, () => assert.equal(templatesEqual(a, b), expected));
  }
  test('does not modify its arguments', () => {
    const a = tpl('a', 'h1');
    templatesEqual(a, tpl('a'));
    assert.equal(a.metadata?.labels?.['pod-template-hash'], 'h1');
  });
});
