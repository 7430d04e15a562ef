// Permissions checked up front, on the real control plane (RBAC authorizer, real access reviews):
// an identity that may read but not patch is reported at start-up, in /status, /readyz and the
// metric, and its dry run decides `forbidden` with the missing permission, never `queued`; a
// rule removed from a working identity's role is reported by the periodic check.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { until } from '../support/until.js';
import {
  controllerIdentity,
  deployedTwice,
  startController,
  type RunningController,
} from './support.js';

const CONFIG = `
rollout: { pollIntervalSeconds: 0.1, deadlineSeconds: 180 }
permissions: { checkIntervalSeconds: 1 }
policy: { cooldownSeconds: 0, allowedNamespaces: [perm-a] }
`;

/** Everything a rollback in one namespace needs, less what `drop` names ("patch deployments"). */
function role(name: string, drop?: { verb: string; resource: string }) {
  const rules = [
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: ['apps'], resources: ['statefulsets', 'daemonsets'], verbs: ['get', 'patch'] },
    { apiGroups: ['apps'], resources: ['replicasets', 'controllerrevisions'], verbs: ['list'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  ].map((r) =>
    drop && r.resources.includes(drop.resource)
      ? { ...r, verbs: r.verbs.filter((v) => v !== drop.verb) }
      : r,
  );
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: rules.filter((r) => r.verbs.length),
  };
}

let cluster: KubeCluster;
const started: RunningController[] = [];

before(async () => {
  cluster = await startKubeCluster();
  await cluster.createNamespace('perm-a');
  await deployedTwice(cluster, 'Deployment', 'perm-a', 'api');
});
after(async () => {
  for (const c of started) await c.close();
  await cluster?.stop();
});

async function controllerWithRole(name: string, drop?: { verb: string; resource: string }) {
  await cluster.http.ok(
    'POST',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    role(`${name}-role`, drop),
  );
  const { kubeconfig } = await controllerIdentity(cluster, name, `${name}-role`);
  const controller = await startController({ kubeconfig, config: CONFIG });
  started.push(controller);
  return controller;
}

const listening = (c: RunningController) =>
  c
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"listening"'))
    .map((l) => JSON.parse(l) as Record<string, any>)[0];

describe('an identity that may read but not patch', () => {
  let c: RunningController;
  before(async () => {
    c = await controllerWithRole('rc-no-patch', { verb: 'patch', resource: 'deployments' });
  });

  test('is reported at start-up, in /status, /readyz (a warning, still ready) and the metric', async () => {
    const line = listening(c);
    assert.equal(line?.['permissions'], 'missing: patch deployments.apps in perm-a');
    assert.match(String(line?.['apiServer']), /^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await c.call('GET', 'status');
    assert.deepEqual(status.body.permissions.missing, [
      { verb: 'patch', resource: 'deployments.apps', namespace: 'perm-a', feature: 'rollback' },
    ]);
    const ready = await fetch(`${c.url}/readyz`);
    assert.equal(ready.status, 200, 'a missing permission is not a readiness failure');
    const body = (await ready.json()) as { checks: Record<string, string>; warnings: string[] };
    assert.equal(body.checks['permissions'], 'missing 1');
    assert.deepEqual(body.warnings, [
      'missing permission: patch deployments.apps in perm-a (rollback)',
    ]);
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    assert.match(
      metrics,
      /^rollback_permission_missing\{verb="patch",resource="deployments\.apps"\} 1$/m,
    );
    assert.match(
      metrics,
      /^rollback_permission_missing\{verb="get",resource="deployments\.apps"\} 0$/m,
    );
  });

  test('its dry run decides forbidden with the missing permission, never queued', async () => {
    const r = await c.call('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: 'perm-a', deployment: 'api' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [plan] = r.body.plans;
    assert.equal(plan.decision, 'forbidden', JSON.stringify(plan));
    assert.equal(plan.forbidden.verb, 'patch');
    assert.equal(plan.forbidden.resource, 'deployments.apps');
    assert.equal(plan.forbidden.namespace, 'perm-a');
    assert.match(plan.reason, /may not patch deployments\.apps in namespace perm-a/);
    assert.equal(plan.fromRevision, 2, 'the plan itself was read');
    assert.equal(plan.toRevision, 1);
    assert.deepEqual((await c.call('GET', 'jobs')).body.jobs, [], 'nothing queued');
  });
});

describe('a working identity whose role loses a rule', () => {
  test('the periodic check reports the removed rule', async () => {
    const c = await controllerWithRole('rc-full');
    assert.match(String(listening(c)?.['permissions']), /^ok \(10 checked\)$/);
    const plan = (
      await c.call('POST', 'test', {
        alert_name: 'CriticalErrorRate',
        labels: { severity: 'critical', namespace: 'perm-a', deployment: 'api' },
      })
    ).body.plans[0];
    assert.equal(plan.decision, 'queued', JSON.stringify(plan));

    await cluster.http.ok(
      'PUT',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/rc-full-role',
      role('rc-full-role', { verb: 'create', resource: 'events' }),
    );
    let missing: unknown[] = [];
    await until(
      async () => {
        missing = (await c.call('GET', 'status')).body.permissions.missing;
        return missing.length > 0;
      },
      120_000,
      'the check to notice the removed rule',
    );
    assert.deepEqual(missing, [
      {
        verb: 'create',
        resource: 'events',
        namespace: 'perm-a',
        feature: 'rollback Event on the workload',
      },
    ]);
    assert.match(
      c.output(),
      /lacks 1 permission\(s\) it needs: create events in perm-a/,
      'a warning in the log',
    );
  });
});
