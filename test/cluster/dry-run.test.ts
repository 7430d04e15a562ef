// The dry run (`POST /test`) on the real control plane: the plan comes from the live revisions
// and is checked by the API server's own server-side dry run, admission included; nothing is
// written (the audit log has the dry-run PATCH only).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import { clusterWithController, deployedTwice, type RunningController } from './support.js';

let cluster: KubeCluster;
let controller: RunningController;
let user: string;
let stop: (() => Promise<void>) | undefined;

before(async () => {
  ({ cluster, controller, user, stop } = await clusterWithController('rc-dry-run'));
});
after(async () => {
  await stop?.();
});

const dryRun = (ns: string, name: string) =>
  controller.call('POST', 'test', {
    alert_name: 'CriticalErrorRate',
    labels: { severity: 'critical', namespace: ns, deployment: name },
  });

describe('dry run on the real control plane', () => {
  test('from → to revision and images, verified by a server-side dry run, nothing written', async () => {
    await cluster.createNamespace('dry-a');
    await deployedTwice(cluster, 'Deployment', 'dry-a', 'api');
    const before = await cluster.get('Deployment', 'dry-a', 'api');
    const r = await dryRun('dry-a', 'api');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [p] = r.body.plans;
    assert.equal(p.decision, 'queued', JSON.stringify(p));
    assert.equal(p.fromRevision, 2);
    assert.equal(p.toRevision, 1);
    assert.deepEqual(p.changes.images, [{ container: 'api', from: 'api:v2', to: 'api:v1' }]);
    assert.equal(p.execution.serverDryRun, true);

    const patches = cluster.audit.events({ user, verb: 'patch', namespace: 'dry-a', name: 'api' });
    assert.ok(patches.length >= 1, 'the dry run reached the API server');
    for (const e of patches) {
      assert.match(e.requestURI, /[?&]dryRun=All/);
      assert.equal(e.responseStatus?.code, 200);
    }
    assert.deepEqual(cluster.audit.templateWrites({ user }), [], 'nothing was written');
    const afterwards = await cluster.get('Deployment', 'dry-a', 'api');
    // Not the resourceVersion: the Deployment controller may still be writing status. The spec
    // (and so the generation) is what a written rollback would change.
    assert.equal(afterwards.metadata.generation, before.metadata.generation);
    assert.deepEqual(afterwards.spec, before.spec);
    assert.deepEqual((await controller.call('GET', 'jobs')).body.jobs, []);
  });

  test('an admission policy that would reject the rollback shows in the plan', async () => {
    await cluster.createNamespace('dry-b');
    await cluster.http.ok(
      'PATCH',
      '/api/v1/namespaces/dry-b',
      { metadata: { labels: { pinned: 'v2' } } },
      'application/merge-patch+json',
    );
    await deployedTwice(cluster, 'Deployment', 'dry-b', 'web');
    // A real ValidatingAdmissionPolicy: in namespaces labelled pinned=v2, no v1 image may come back.
    await cluster.http.ok(
      'POST',
      '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies',
      {
        metadata: { name: 'no-v1' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: ['apps'],
                apiVersions: ['v1'],
                operations: ['UPDATE'],
                resources: ['deployments'],
              },
            ],
          },
          validations: [
            {
              expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith(':v1'))",
              message: 'v1 images are retired in this namespace',
            },
          ],
        },
      },
    );
    await cluster.http.ok(
      'POST',
      '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
      {
        metadata: { name: 'no-v1' },
        spec: {
          policyName: 'no-v1',
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { pinned: 'v2' } } },
        },
      },
    );
    // The policy is enforced once the API server has loaded it.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const probe = await cluster
        .kubectl([
          'set',
          'image',
          'deployment/web',
          'web=web:v1',
          '-n',
          'dry-b',
          '--dry-run=server',
        ])
        .catch((e: Error) => e);
      if (probe instanceof Error && /retired/.test(probe.message)) break;
      assert.ok(Date.now() < deadline, 'the admission policy was never enforced');
      await new Promise((r) => setTimeout(r, 250));
    }

    const r = await dryRun('dry-b', 'web');
    const [p] = r.body.plans;
    assert.equal(p.execution.serverDryRun, false, JSON.stringify(p));
    assert.match(p.execution.reason, /rejected the patch in a dry run/);
    assert.match(p.execution.reason, /v1 images are retired in this namespace/);
    assert.deepEqual(cluster.audit.templateWrites({ user, namespace: 'dry-b' }), []);
    const w = await cluster.get('Deployment', 'dry-b', 'web');
    assert.equal(w.spec.template.spec.containers[0].image, 'web:v2');
  });
});
