// changes.fields of the dry run (contract.md "POST /test"): every non-image pod-template change by path,
// values shown except env values and args.
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { templateChanges } from '../../src/executors/kubernetes/template-changes.js';
import type { PodTemplate } from '../../src/kube/kube-types.js';

const current: PodTemplate = {
  metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'web:v2',
        env: [
          { name: 'TOKEN', value: 'secret-v2' },
          { name: 'MODE', value: 'fast' },
        ],
        args: ['--password=p2'],
        command: ['/bin/web', '--serve'],
        readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
      },
      { name: 'sidecar', image: 'side:v1', env: [{ name: 'KEY', value: 'sidecar-secret' }] },
    ],
    volumes: [{ name: 'cache', emptyDir: { sizeLimit: '1Gi' } }],
  },
};
const target: PodTemplate = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'web:v1',
        env: [{ name: 'TOKEN', value: 'secret-v1' }],
        args: ['--password=p1'],
        command: ['/bin/web'],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
      },
    ],
    volumes: [{ name: 'cache', emptyDir: { sizeLimit: '2Gi' } }],
  },
};

describe('templateChanges', () => {
  test('every field by path; env values, args and a removed container hidden; images left out', () => {
    const changes = templateChanges(current, target);
    assert.deepEqual(changes, [
      { path: 'spec.containers[web].args', change: 'changed' },
      {
        path: 'spec.containers[web].command',
        change: 'changed',
        from: ['/bin/web', '--serve'],
        to: ['/bin/web'],
      },
      { path: 'spec.containers[web].env[TOKEN]', change: 'changed' },
      { path: 'spec.containers[web].env[MODE]', change: 'removed' },
      {
        path: 'spec.containers[web].readinessProbe.httpGet.path',
        change: 'changed',
        from: '/ready',
        to: '/healthz',
      },
      { path: 'spec.containers[sidecar]', change: 'removed' },
      { path: 'spec.volumes[cache].emptyDir.sizeLimit', change: 'changed', from: '1Gi', to: '2Gi' },
    ]);
    const text = JSON.stringify(changes);
    for (const secret of ['secret-v', 'p1', 'p2', 'sidecar-secret', 'fast']) {
      assert.ok(!text.includes(secret), `${secret} leaked`);
    }
  });

  test('the pod-template-hash label and empty fields are not changes', () => {
    assert.deepEqual(
      templateChanges(current, { ...current, metadata: { labels: { app: 'web' } } }),
      [],
    );
  });
});
