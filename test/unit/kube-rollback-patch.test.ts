import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  deploymentRollbackPatch,
  rollbackAnnotations,
} from '../../src/executors/kubernetes/deployment-rollback-patch.js';
import { controllerRevisionPatch } from '../../src/executors/kubernetes/controller-revision-patch.js';
import { imageDiff } from '../../src/executors/kubernetes/image-diff.js';
import {
  formatLastRollback,
  parseLastRollback,
  type LastRollback,
} from '../../src/kube/last-rollback.js';
import type { PodTemplate, Workload } from '../../src/kube/kube-types.js';

const record: LastRollback = {
  jobId: 'job-1',
  alert: 'CriticalErrorRate',
  trigger: 'error_rate_threshold',
  fromRevision: 2,
  toRevision: 1,
  toName: 'web-aaa',
  at: '2025-01-01T00:00:00.000Z',
};

describe('rollbackAnnotations (kubectl rules)', () => {
  test('keeps the Deployment-managed annotations and takes the rest from the ReplicaSet', () => {
    const deployment = {
      'kubectl.kubernetes.io/last-applied-configuration': '{"dep":1}',
      'deployment.kubernetes.io/revision': '2',
      'deployment.kubernetes.io/revision-history': '0',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
      'deprecated.deployment.rollback.to': '1',
      team: 'payments',
      'kubernetes.io/change-cause': 'deploy v2',
    };
    const rs = {
      'kubectl.kubernetes.io/last-applied-configuration': '{"rs":1}',
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '1',
      'kubernetes.io/change-cause': 'deploy v1',
      owner: 'rs-only',
    };
    assert.deepEqual(rollbackAnnotations(deployment, rs), {
      'kubectl.kubernetes.io/last-applied-configuration': '{"dep":1}',
      'deployment.kubernetes.io/revision': '2',
      'deployment.kubernetes.io/revision-history': '0',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
      'deprecated.deployment.rollback.to': '1',
      'kubernetes.io/change-cause': 'deploy v1',
      owner: 'rs-only',
    });
  });
  test('annotations only on the Deployment and not managed are dropped, as kubectl does', () => {
    assert.deepEqual(rollbackAnnotations({ team: 'x' }, undefined), {});
  });
});

describe('deploymentRollbackPatch', () => {
  const deployment: Workload = {
    metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': '2' } },
    spec: { template: {} },
  };
  const template: PodTemplate = {
    metadata: { labels: { app: 'web', 'pod-template-hash': 'aaa' } },
    spec: { containers: [{ name: 'web', image: 'web:v1' }] },
  };
  const patch = deploymentRollbackPatch(deployment, { template, annotations: { a: 'b' } }, record);

  test('replaces /spec/template without pod-template-hash, then /metadata/annotations', () => {
    assert.deepEqual(
      patch.map((p) => [p.op, p.path]),
      [
        ['replace', '/spec/template'],
        ['replace', '/metadata/annotations'],
      ],
    );
    assert.deepEqual(patch[0]?.value, {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'web:v1' }] },
    });
    assert.equal(template.metadata?.labels?.['pod-template-hash'], 'aaa', 'input untouched');
  });
  test('records last-rollback and change-cause on top of kubectl annotations', () => {
    const annotations = patch[1]?.value as Record<string, string>;
    assert.equal(annotations['deployment.kubernetes.io/revision'], '2');
    assert.equal(annotations.a, 'b');
    assert.deepEqual(parseLastRollback(annotations), record);
    assert.match(
      annotations['kubernetes.io/change-cause'] ?? '',
      /from revision 2 to 1.*CriticalErrorRate/,
    );
  });
});

describe('controllerRevisionPatch', () => {
  test('is the revision data plus a merge of our two annotations', () => {
    const data = {
      spec: { template: { $patch: 'replace', spec: { containers: [{ name: 'c', image: 'v1' }] } } },
    };
    const patch = controllerRevisionPatch(data, record);
    assert.deepEqual(patch.spec, data.spec);
    const annotations = (patch.metadata as { annotations: Record<string, string> }).annotations;
    assert.deepEqual(Object.keys(annotations).sort(), [
      'kubernetes.io/change-cause',
      'rollback-controller.io/last-rollback',
    ]);
    assert.equal(
      JSON.parse(annotations['rollback-controller.io/last-rollback'] ?? '').jobId,
      'job-1',
    );
    assert.equal('metadata' in data, false, 'input untouched');
  });
});

describe('parseLastRollback', () => {
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['absent', undefined, false],
    ['not JSON', { 'rollback-controller.io/last-rollback': 'nope' }, false],
    ['missing fields', { 'rollback-controller.io/last-rollback': '{"jobId":"x"}' }, false],
    ['round trip', { 'rollback-controller.io/last-rollback': formatLastRollback(record) }, true],
  ];
  for (const [name, annotations, ok] of cases) {
    test(name, () => assert.equal(parseLastRollback(annotations) !== undefined, ok));
  }
});

describe('imageDiff', () => {
  const t = (
    containers: Array<[string, string]>,
    init: Array<[string, string]> = [],
  ): PodTemplate => ({
    spec: {
      containers: containers.map(([name, image]) => ({ name, image })),
      initContainers: init.map(([name, image]) => ({ name, image })),
    },
  });
  const cases: Array<[string, PodTemplate, PodTemplate, ReturnType<typeof imageDiff>]> = [
    [
      'one changed',
      t([['web', 'v2']]),
      t([['web', 'v1']]),
      [{ container: 'web', from: 'v2', to: 'v1' }],
    ],
    [
      'unchanged is not listed',
      t([
        ['web', 'v1'],
        ['side', 's1'],
      ]),
      t([
        ['web', 'v1'],
        ['side', 's1'],
      ]),
      [],
    ],
    [
      'added and removed containers',
      t([
        ['web', 'v2'],
        ['new', 'n1'],
      ]),
      t([
        ['web', 'v2'],
        ['old', 'o1'],
      ]),
      [
        { container: 'new', from: 'n1', to: null },
        { container: 'old', from: null, to: 'o1' },
      ],
    ],
    [
      'init containers count',
      t([], [['migrate', 'm2']]),
      t([], [['migrate', 'm1']]),
      [{ container: 'migrate', from: 'm2', to: 'm1' }],
    ],
  ];
  for (const [name, from, to, expected] of cases) {
    test(name, () => assert.deepEqual(imageDiff(from, to), expected));
  }
});
