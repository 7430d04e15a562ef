// What the permission check asks for and how it reports: exact namespaces one by one, globs as
// all namespaces, leader election's Lease; missing ones in the summary and the gauge; a check that
// cannot finish keeps the last answer instead of claiming everything is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ForbiddenError } from '../../src/kube/kube-errors.js';
import { forbiddenPermission } from '../../src/kube/forbidden-permission.js';
import type { AccessAttributes } from '../../src/kube/kube-client.js';
import { PermissionCheck } from '../../src/kube/permission-check.js';
import { requiredPermissions } from '../../src/kube/required-permissions.js';
import { createMetrics } from '../../src/observability/metrics.js';

const silent = pino({ enabled: false });

test('exact namespaces are checked one by one; a glob means all namespaces', () => {
  const exact = requiredPermissions({ policy: { allowedNamespaces: ['shop', 'cart', 'shop'] } });
  assert.deepEqual([...new Set(exact.map((p) => p.namespace))], ['shop', 'cart']);
  assert.ok(exact.some((p) => p.verb === 'patch' && p.label === 'deployments.apps'));
  const globbed = requiredPermissions({ policy: { allowedNamespaces: ['team-*', 'shop'] } });
  assert.deepEqual([...new Set(globbed.map((p) => p.namespace))], ['', 'shop']);
});

test('policy.deleteStuckPods adds delete on pods', () => {
  const without = requiredPermissions({ policy: { allowedNamespaces: ['shop'] } });
  const withDelete = requiredPermissions({
    policy: { allowedNamespaces: ['shop'], deleteStuckPods: true },
  });
  assert.ok(!without.some((p) => p.verb === 'delete'));
  assert.ok(withDelete.some((p) => p.verb === 'delete' && p.label === 'pods'));
});

test('leader election adds the Lease (by name) and pods in its namespace', () => {
  const ps = requiredPermissions({
    policy: { allowedNamespaces: ['shop'] },
    lease: { namespace: 'rollback', name: 'rc' },
  });
  const lease = ps.filter((p) => p.resource === 'leases');
  assert.deepEqual(
    lease.map((p) => [p.verb, p.namespace, p.name]),
    [
      ['get', 'rollback', 'rc'],
      ['update', 'rollback', 'rc'],
    ],
  );
  assert.ok(ps.some((p) => p.verb === 'get' && p.label === 'pods' && p.namespace === 'rollback'));
});

test('missing permissions: summary, report and gauge; restored ones go back to 0', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  let denied = (a: AccessAttributes) => a.verb === 'patch' && a.resource === 'deployments';
  const check = new PermissionCheck({
    review: async (a) => ({ allowed: !denied(a) }),
    required: requiredPermissions({ policy: { allowedNamespaces: ['shop'] } }),
    metrics,
    logger: silent,
    intervalMs: 60_000,
    now: () => Date.UTC(2026, 0, 1),
  });
  assert.equal(check.summary, 'not checked yet');
  await check.check();
  assert.equal(check.summary, 'missing: patch deployments.apps in shop');
  assert.equal(check.report.checkedAt, '2026-01-01T00:00:00.000Z');
  const gauge = async () =>
    Object.fromEntries(
      (await metrics.permissionMissing.get()).values.map((v) => [
        `${v.labels.verb} ${v.labels.resource}`,
        v.value,
      ]),
    );
  assert.equal((await gauge())['patch deployments.apps'], 1);
  assert.equal((await gauge())['get deployments.apps'], 0);
  denied = () => false;
  await check.check();
  assert.equal(check.summary, 'ok (10 checked)');
  assert.equal((await gauge())['patch deployments.apps'], 0);
});

test('a check that cannot finish says so and keeps the last answer', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  let fail = false;
  const check = new PermissionCheck({
    review: async (a) => {
      if (fail) throw new Error('API server unreachable');
      return { allowed: a.verb !== 'create' };
    },
    required: requiredPermissions({ policy: { allowedNamespaces: ['shop'] } }),
    metrics,
    logger: silent,
    intervalMs: 60_000,
  });
  await check.check();
  fail = true;
  await check.check();
  assert.equal(check.summary, 'could not check: API server unreachable');
  assert.deepEqual(
    check.report.missing.map((m) => `${m.verb} ${m.resource}`),
    ['create events'],
  );
});

test('without a Kubernetes config nothing is checked, and the reason is given', async () => {
  const check = new PermissionCheck({
    review: undefined,
    unavailableReason: 'no Kubernetes config found',
    required: [],
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silent,
    intervalMs: 60_000,
  });
  await check.check();
  assert.equal(check.summary, 'not checked: no Kubernetes config found');
});

test('a 403 names the refused permission from the call, not from the server text', () => {
  const patch = new ForbiddenError(
    'PATCH Deployment shop/api (dry run): 403 whatever the server says',
    403,
  );
  assert.deepEqual(forbiddenPermission(patch), {
    verb: 'patch',
    resource: 'deployments.apps',
    namespace: 'shop',
    message: patch.message,
  });
  const list = new ForbiddenError('LIST ReplicaSets in shop: 403 forbidden', 403);
  assert.equal(forbiddenPermission(list)?.resource, 'replicasets.apps');
  assert.equal(forbiddenPermission(list)?.verb, 'list');
  const helm = new ForbiddenError('PATCH HelmRelease flux/app (dry run): 403 no', 403);
  assert.equal(forbiddenPermission(helm)?.resource, 'helmreleases.helm.toolkit.fluxcd.io');
  assert.equal(forbiddenPermission(new ForbiddenError('GET Deployment a/b: 401', 401)), undefined);
  assert.equal(forbiddenPermission(new Error('PATCH Deployment a/b')), undefined);
});
