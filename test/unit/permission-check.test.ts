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

/** rollback_permission_missing by "verb resource". */
async function gaugeOf(metrics: ReturnType<typeof createMetrics>) {
  return Object.fromEntries(
    (await metrics.permissionMissing.get()).values.map((v) => [
      `${v.labels.verb} ${v.labels.resource}`,
      v.value,
    ]),
  );
}

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
  const gauge = () => gaugeOf(metrics);
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

test('Argo Rollouts: rollouts and rollouts/status are required only where the API server serves them', () => {
  const policy = { allowedNamespaces: ['shop'] };
  const argo = (ps: ReturnType<typeof requiredPermissions>) =>
    ps
      .filter((p) => p.group === 'argoproj.io')
      .map((p) => `${p.verb} ${p.label} ${p.subresource ?? '-'} ${p.namespace}`);
  assert.deepEqual(argo(requiredPermissions({ policy })), []);
  assert.deepEqual(argo(requiredPermissions({ policy, argoRollouts: false })), []);
  assert.deepEqual(argo(requiredPermissions({ policy, argoRollouts: true })), [
    'get rollouts.argoproj.io - shop',
    'patch rollouts.argoproj.io - shop',
    'patch rollouts.argoproj.io/status status shop',
  ]);
  // A new leader lists Rollouts for a dead leader's pending jobs.
  const ha = requiredPermissions({
    policy,
    argoRollouts: true,
    lease: { namespace: 'rollback', name: 'rc' },
  });
  assert.ok(argo(ha).includes('list rollouts.argoproj.io - shop'));
  const status = ha.find((p) => p.subresource === 'status');
  assert.match(status?.feature ?? '', /abort and promoteFull \(chart: argoRollouts\.enabled\)/);
});

test('Argo Rollouts installed later, then removed: asked at each check, the gauge follows', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  let served = true;
  const asked: AccessAttributes[] = [];
  const check = new PermissionCheck({
    // An identity with the chart's defaults (argoRollouts.enabled false): no argoproj.io grant.
    review: async (a) => {
      asked.push(a);
      return { allowed: a.group !== 'argoproj.io' };
    },
    required: async () =>
      requiredPermissions({ policy: { allowedNamespaces: ['shop'] }, argoRollouts: served }),
    metrics,
    logger: silent,
    intervalMs: 60_000,
  });
  await check.check();
  assert.equal(
    check.summary,
    'missing: get rollouts.argoproj.io in shop, patch rollouts.argoproj.io in shop, patch rollouts.argoproj.io/status in shop',
  );
  // The access review names the subresource as the API server expects it.
  assert.ok(
    asked.some(
      (a) => a.resource === 'rollouts' && a.subresource === 'status' && a.verb === 'patch',
    ),
  );
  const gauge = () => gaugeOf(metrics);
  assert.equal((await gauge())['patch rollouts.argoproj.io/status'], 1);
  served = false;
  await check.check();
  assert.equal(check.summary, 'ok (10 checked)');
  assert.equal((await gauge())['patch rollouts.argoproj.io/status'], 0);
  assert.equal((await gauge())['get rollouts.argoproj.io'], 0);
});

test('discovery failing: the check says it could not check, and keeps the last answer', async () => {
  const check = new PermissionCheck({
    review: async () => ({ allowed: true }),
    required: async () => {
      throw new Error('GET /apis/argoproj.io/v1alpha1: ECONNREFUSED');
    },
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silent,
    intervalMs: 60_000,
  });
  await check.check();
  assert.equal(check.summary, 'could not check: GET /apis/argoproj.io/v1alpha1: ECONNREFUSED');
});
