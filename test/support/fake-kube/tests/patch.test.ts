// Patch semantics of the fake API server: RFC 6902, RFC 7386 and strategic merge patch as the
// real server applies them to workloads.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, applyPatch, mergePatch } from '../patch.js';
import { strategicMerge } from '../strategic-merge-patch.js';
import { ApiError, type JsonObject } from '../types.js';

// Results are read by path, as a test reads JSON.

type Loose = any;

const isApiError = (code: number) => (error: unknown) =>
  error instanceof ApiError && error.code === code;

function deployment(): JsonObject {
  return {
    metadata: {
      name: 'web',
      annotations: { a: '1', 'kubernetes.io/change-cause': 'v1' },
      finalizers: ['x'],
    },
    spec: {
      replicas: 2,
      template: {
        metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'web:v1',
              args: ['--a', '--b'],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              ports: [{ containerPort: 80, protocol: 'TCP' }],
            },
            { name: 'sidecar', image: 'proxy:v1' },
          ],
          dnsPolicy: 'ClusterFirst',
        },
      },
    },
  };
}

describe('JSON patch (RFC 6902)', () => {
  test('the operations kubectl rollout undo and the executor send', () => {
    const doc = deployment();
    const result = applyJsonPatch(doc, [
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'web:v0' },
      { op: 'add', path: '/metadata/annotations/kubernetes.io~1change-cause', value: 'rollback' },
      { op: 'remove', path: '/spec/template/metadata/labels/pod-template-hash' },
      {
        op: 'add',
        path: '/spec/template/spec/containers/-',
        value: { name: 'late', image: 'late:v1' },
      },
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'copy', from: '/spec/replicas', path: '/metadata/annotations/copied' },
      { op: 'move', from: '/metadata/annotations/a', path: '/metadata/annotations/moved' },
    ]) as Loose;
    assert.equal(result.spec.template.spec.containers[0].image, 'web:v0');
    assert.equal(result.metadata.annotations['kubernetes.io/change-cause'], 'rollback');
    assert.deepEqual(result.spec.template.metadata.labels, { app: 'web' });
    assert.deepEqual(
      result.spec.template.spec.containers.map((c: { name: string }) => c.name),
      ['web', 'sidecar', 'late'],
    );
    assert.equal(result.metadata.annotations.copied, 2);
    assert.equal(result.metadata.annotations.moved, '1');
    assert.equal('a' in result.metadata.annotations, false);
    // The input is never modified.
    assert.deepEqual(doc, deployment());
  });

  test('replacing the whole template and annotation map', () => {
    const result = applyJsonPatch(deployment(), [
      { op: 'replace', path: '/spec/template', value: { metadata: {}, spec: { containers: [] } } },
      { op: 'replace', path: '/metadata/annotations', value: { only: 'this' } },
    ]) as Loose;
    assert.deepEqual(result.spec.template, { metadata: {}, spec: { containers: [] } });
    assert.deepEqual(result.metadata.annotations, { only: 'this' });
  });

  test('operations that do not apply are 422; malformed ones are 400', () => {
    assert.throws(
      () => applyJsonPatch(deployment(), [{ op: 'replace', path: '/spec/paused', value: true }]),
      isApiError(422),
    );
    assert.throws(
      () =>
        applyJsonPatch(deployment(), [{ op: 'remove', path: '/spec/template/spec/containers/5' }]),
      isApiError(422),
    );
    assert.throws(
      () => applyJsonPatch(deployment(), [{ op: 'test', path: '/spec/replicas', value: 3 }]),
      isApiError(422),
    );
    assert.throws(
      () => applyJsonPatch(deployment(), [{ op: 'add', path: '/no/such/parent', value: 1 }]),
      isApiError(422),
    );
    assert.throws(() => applyJsonPatch(deployment(), { op: 'add' }), isApiError(400));
    assert.throws(
      () => applyJsonPatch(deployment(), [{ op: 'frobnicate', path: '/spec' }]),
      isApiError(400),
    );
    assert.throws(
      () => applyJsonPatch(deployment(), [{ op: 'add', path: '/spec/x' }]),
      isApiError(400),
    );
  });
});

describe('merge patch (RFC 7386)', () => {
  test('objects merge, null deletes, lists are replaced whole', () => {
    const result = mergePatch(deployment(), {
      metadata: { annotations: { a: null, b: '2' } },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'web:v2' }] } } },
    }) as Loose;
    assert.deepEqual(result.metadata.annotations, { 'kubernetes.io/change-cause': 'v1', b: '2' });
    assert.deepEqual(result.spec.template.spec.containers, [{ name: 'web', image: 'web:v2' }]);
    assert.equal(result.spec.replicas, 2);
  });
});

describe('strategic merge patch', () => {
  test('kubectl set image: containers merge by name, other fields and containers stay', () => {
    const result = strategicMerge(deployment(), {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
            containers: [{ image: 'web:v2', name: 'web' }],
          },
        },
      },
    }) as Loose;
    const [web, sidecar] = result.spec.template.spec.containers;
    assert.equal(web.image, 'web:v2');
    assert.deepEqual(web.args, ['--a', '--b']);
    assert.equal(web.env.length, 2);
    assert.deepEqual(sidecar, { name: 'sidecar', image: 'proxy:v1' });
  });

  test('env by name, ports by containerPort, plain lists replaced, new items appended', () => {
    const result = strategicMerge(deployment(), {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                args: ['--c'],
                env: [
                  { name: 'B', value: 'two' },
                  { name: 'C', value: '3' },
                ],
                ports: [{ containerPort: 80, name: 'http' }],
              },
              { name: 'new', image: 'new:v1' },
            ],
          },
        },
      },
    }) as Loose;
    const web = result.spec.template.spec.containers[0];
    assert.deepEqual(web.args, ['--c']);
    assert.deepEqual(web.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    assert.deepEqual(web.ports, [{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
    assert.deepEqual(
      result.spec.template.spec.containers.map((c: { name: string }) => c.name),
      ['web', 'sidecar', 'new'],
    );
  });

  test('$patch: replace swaps the whole template, as a ControllerRevision undo sends it', () => {
    const template = {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'web:v0' }] },
    };
    const result = strategicMerge(deployment(), {
      spec: { template: { ...template, $patch: 'replace' } },
    }) as Loose;
    assert.deepEqual(result.spec.template, template);
    assert.equal(result.spec.replicas, 2);
  });

  test('$patch: delete, $setElementOrder, $deleteFromPrimitiveList, $retainKeys, null', () => {
    const result = strategicMerge(deployment(), {
      metadata: { annotations: { a: null }, '$deleteFromPrimitiveList/finalizers': ['x'] },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
            containers: [{ name: 'web', env: [{ name: 'A', $patch: 'delete' }] }],
            $retainKeys: ['containers'],
          },
        },
      },
    }) as Loose;
    assert.deepEqual(result.metadata.annotations, { 'kubernetes.io/change-cause': 'v1' });
    assert.deepEqual(result.metadata.finalizers, []);
    assert.deepEqual(
      result.spec.template.spec.containers.map((c: { name: string }) => c.name),
      ['sidecar', 'web'],
    );
    assert.deepEqual(result.spec.template.spec.containers[1].env, [{ name: 'B', value: '2' }]);
    assert.equal('dnsPolicy' in result.spec.template.spec, false);
  });

  test('finalizers merge as a set; a list item without its merge key is rejected', () => {
    const result = strategicMerge(deployment(), { metadata: { finalizers: ['x', 'y'] } }) as Loose;
    assert.deepEqual(result.metadata.finalizers, ['x', 'y']);
    assert.throws(
      () =>
        strategicMerge(deployment(), {
          spec: { template: { spec: { containers: [{ image: 'nameless' }] } } },
        }),
      isApiError(422),
    );
  });
});

test('applyPatch dispatches by Content-Type and rejects non-object merge patches', () => {
  const target = deployment();
  const viaJson = applyPatch(
    target,
    [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    'application/json-patch+json',
  );
  assert.equal((viaJson.spec as Loose).replicas, 5);
  const viaMerge = applyPatch(target, { spec: { replicas: 6 } }, 'application/merge-patch+json');
  assert.equal((viaMerge.spec as Loose).replicas, 6);
  assert.throws(
    () => applyPatch(target, [1], 'application/strategic-merge-patch+json'),
    isApiError(400),
  );
});
