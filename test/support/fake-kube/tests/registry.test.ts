// REST semantics of the fake API server's registry (in memory, no HTTP).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../registry.js';
import { resourceForKind } from '../resources.js';
import { Store } from '../store.js';
import { ApiError, type Workload } from '../types.js';

const deployments = resourceForKind('Deployment');
const replicaSets = resourceForKind('ReplicaSet');
const clock = () => new Date('2025-01-02T03:04:05.678Z');

function deployment(name = 'web', image = 'web:v1') {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  };
}

function fresh() {
  const registry = new Registry(new Store(), clock);
  const created = registry.create(deployments, 'shop', deployment()) as Workload;
  return { registry, created };
}

const apiError = (code: number, reason: string) => (error: unknown) =>
  error instanceof ApiError && error.code === code && error.reason === reason;

describe('create', () => {
  test('server-set metadata and the API server defaults', () => {
    const { registry, created } = fresh();
    assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(created.metadata.resourceVersion, /^\d+$/);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.metadata.namespace, 'shop');
    assert.equal(created.metadata.creationTimestamp, '2025-01-02T03:04:05Z');
    assert.equal(created.spec.replicas, 1);
    assert.equal(created.spec.progressDeadlineSeconds, 600);
    assert.deepEqual(created.spec.strategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
    const container = created.spec.template.spec.containers[0] as Record<string, unknown>;
    assert.equal(container.imagePullPolicy, 'IfNotPresent');
    assert.equal(container.terminationMessagePath, '/dev/termination-log');
    // The namespace now exists, as namespaces referenced by objects do in the fake.
    assert.equal(registry.get(resourceForKind('Namespace'), '', 'shop').metadata.name, 'shop');
  });

  test('AlreadyExists, invalid names and selectors that do not match the template', () => {
    const { registry } = fresh();
    assert.throws(
      () => registry.create(deployments, 'shop', deployment()),
      apiError(409, 'AlreadyExists'),
    );
    assert.throws(
      () => registry.create(deployments, 'shop', deployment('Bad_Name')),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.code, 422);
        assert.match(
          error.message,
          /Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
        );
        assert.equal((error.details?.causes as Array<{ field: string }>)[0].field, 'metadata.name');
        return true;
      },
    );
    const mismatched = deployment('other');
    mismatched.spec.template.metadata.labels = { app: 'something-else' };
    assert.throws(
      () => registry.create(deployments, 'shop', mismatched),
      (error: unknown) =>
        error instanceof ApiError &&
        error.code === 422 &&
        /`selector` does not match template `labels`/.test(error.message),
    );
    assert.throws(
      () => registry.create(deployments, 'shop', { ...deployment('x'), kind: 'StatefulSet' }),
      apiError(400, 'BadRequest'),
    );
    assert.throws(
      () =>
        registry.create(deployments, 'shop', {
          ...deployment('y'),
          metadata: { name: 'y', namespace: 'other' },
        }),
      apiError(400, 'BadRequest'),
    );
  });

  test('dryRun returns the object without storing it', () => {
    const { registry } = fresh();
    const answer = registry.create(deployments, 'shop', deployment('dry'), { dryRun: true });
    assert.equal(answer.metadata.name, 'dry');
    assert.throws(() => registry.get(deployments, 'shop', 'dry'), apiError(404, 'NotFound'));
  });
});

describe('update and patch', () => {
  test('a stale resourceVersion is a 409 Conflict with the API server message', () => {
    const { registry, created } = fresh();
    const first = structuredClone(created);
    first.metadata.annotations = { a: '1' };
    registry.update(deployments, 'shop', 'web', first);
    assert.throws(
      () => registry.update(deployments, 'shop', 'web', created),
      (error: unknown) =>
        error instanceof ApiError &&
        error.code === 409 &&
        error.reason === 'Conflict' &&
        error.message ===
          'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    // A patch carrying a stale resourceVersion is a precondition too.
    assert.throws(
      () =>
        registry.patch(
          deployments,
          'shop',
          'web',
          { metadata: { resourceVersion: created.metadata.resourceVersion } },
          'application/merge-patch+json',
        ),
      apiError(409, 'Conflict'),
    );
  });

  test('generation moves on spec changes only; a no-op keeps the resourceVersion', () => {
    const { registry, created } = fresh();
    const annotated = registry.patch(
      deployments,
      'shop',
      'web',
      { metadata: { annotations: { a: '1' } } },
      'application/merge-patch+json',
    );
    assert.equal(annotated.metadata.generation, 1);
    assert.notEqual(annotated.metadata.resourceVersion, created.metadata.resourceVersion);
    const same = registry.patch(
      deployments,
      'shop',
      'web',
      { metadata: { annotations: { a: '1' } } },
      'application/merge-patch+json',
    );
    assert.equal(same.metadata.resourceVersion, annotated.metadata.resourceVersion);
    const scaled = registry.patch(
      deployments,
      'shop',
      'web',
      [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      'application/json-patch+json',
    );
    assert.equal(scaled.metadata.generation, 2);
  });

  test('status is written only through the status subresource', () => {
    const { registry } = fresh();
    const main = registry.patch(
      deployments,
      'shop',
      'web',
      { status: { replicas: 9 } },
      'application/merge-patch+json',
    );
    assert.deepEqual(main.status, {});
    const viaStatus = registry.patch(
      deployments,
      'shop',
      'web',
      { status: { replicas: 9 } },
      'application/merge-patch+json',
      { subresource: 'status' },
    );
    assert.equal((viaStatus.status as { replicas: number }).replicas, 9);
    assert.equal(viaStatus.metadata.generation, 1);
  });

  test('dryRun patch leaves the stored object alone; immutable selector; name mismatch', () => {
    const { registry, created } = fresh();
    const dry = registry.patch(
      deployments,
      'shop',
      'web',
      { spec: { replicas: 7 } },
      'application/strategic-merge-patch+json',
      { dryRun: true },
    ) as Workload;
    assert.equal(dry.spec.replicas, 7);
    assert.deepEqual(registry.get(deployments, 'shop', 'web'), created);
    assert.throws(
      () =>
        registry.patch(
          deployments,
          'shop',
          'web',
          {
            spec: {
              selector: { matchLabels: { app: 'x' } },
              template: { metadata: { labels: { app: 'x' } } },
            },
          },
          'application/merge-patch+json',
        ),
      (error: unknown) =>
        error instanceof ApiError &&
        error.code === 422 &&
        /spec.selector: .*field is immutable/.test(error.message),
    );
    assert.throws(
      () =>
        registry.update(deployments, 'shop', 'web', {
          ...created,
          metadata: { ...created.metadata, name: 'other' },
        }),
      apiError(400, 'BadRequest'),
    );
  });
});

test('delete cascades to the objects the deleted one controls', () => {
  const { registry, created } = fresh();
  registry.create(replicaSets, 'shop', {
    metadata: {
      name: 'web-abc',
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          uid: created.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'web:v1' }] },
      },
    },
  });
  assert.throws(
    () => registry.delete(deployments, 'shop', 'web', { preconditions: { uid: 'other' } }),
    apiError(409, 'Conflict'),
  );
  registry.delete(deployments, 'shop', 'web', { dryRun: true });
  assert.equal(registry.store.list(replicaSets, 'shop').length, 1);
  registry.delete(deployments, 'shop', 'web');
  assert.equal(registry.store.list(replicaSets, 'shop').length, 0);
  assert.throws(() => registry.delete(deployments, 'shop', 'web'), apiError(404, 'NotFound'));
});

test('kinds resolve to their resources; a group picks the events.k8s.io Event', () => {
  assert.equal(resourceForKind('Event').group, '');
  assert.equal(resourceForKind('Event.events.k8s.io').group, 'events.k8s.io');
  assert.equal(resourceForKind('deployment').name, 'deployments');
  assert.throws(() => resourceForKind('CronJob'), /does not serve kind CronJob/);
});
