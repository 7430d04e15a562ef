// The fake API server must be real enough that the real kubectl v1.33 and
// @kubernetes/client-node 1.4 behave against it as against a cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type V1Deployment,
} from '@kubernetes/client-node';
import { startFakeKube, type FakeKube } from '../index.js';
import { kubectlPath } from '../../tools.js';

let kube: FakeKube;
let scratch: string;
let caches = 0;

before(async () => {
  kube = await startFakeKube({ rolloutStepMs: 10 });
  scratch = mkdtempSync(join(tmpdir(), 'fake-kube-kubectl-'));
});

after(async () => {
  await kube.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the real kubectl; a fresh --cache-dir per call so no discovery is shared. */
async function kubectl(...args: string[]) {
  const cacheDir = join(scratch, `cache-${++caches}`);
  const result = await execa(
    kubectlPath(),
    ['--kubeconfig', kube.kubeconfigPath, '--cache-dir', cacheDir, ...args],
    { reject: false, timeout: 30_000 },
  );
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

function image(kind: string, ns: string, name: string): string {
  return kube.get(kind, ns, name).spec.template.spec.containers[0].image;
}

function revisionsOf(historyOutput: string): number[] {
  return [...historyOutput.matchAll(/^(\d+)\s/gm)].map((m) => Number(m[1]));
}

describe('kubectl against the fake: Deployments', { concurrency: true }, () => {
  test('rollout history, undo and status behave as on a cluster', async () => {
    await kube.createDeployment('shop', 'web', {
      image: 'web:v1',
      replicas: 3,
      annotations: { 'kubernetes.io/change-cause': 'deploy v1' },
    });
    await kube.settle();
    await kube.setImage('Deployment', 'shop', 'web', 'web:v2');
    await kube.settle();

    const history = await kubectl('rollout', 'history', 'deployment/web', '-n', 'shop');
    assert.equal(history.code, 0, history.stderr);
    assert.deepEqual(revisionsOf(history.stdout), [1, 2]);
    assert.match(history.stdout, /^1\s+deploy v1$/m);

    const revision1 = await kubectl(
      'rollout',
      'history',
      'deployment/web',
      '-n',
      'shop',
      '--revision=1',
    );
    assert.equal(revision1.code, 0, revision1.stderr);
    assert.match(revision1.stdout, /Image:\s+web:v1/);

    const undo = await kubectl('rollout', 'undo', 'deployment/web', '-n', 'shop');
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /deployment.apps\/web rolled back/);

    const status = await kubectl(
      'rollout',
      'status',
      'deployment/web',
      '-n',
      'shop',
      '--timeout=20s',
    );
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /deployment "web" successfully rolled out/);

    await kube.settle();
    const web = kube.get('Deployment', 'shop', 'web');
    assert.equal(web.spec.template.spec.containers[0].image, 'web:v1');
    assert.equal(web.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.equal(web.status.updatedReplicas, 3);
    assert.equal(web.status.availableReplicas, 3);
    const progressing = web.status.conditions.find(
      (c: { type: string }) => c.type === 'Progressing',
    );
    assert.equal(progressing.reason, 'NewReplicaSetAvailable');

    // The v1 ReplicaSet was reused (its revision bumped), not recreated.
    const replicaSets = kube.list('ReplicaSet', 'shop');
    assert.equal(replicaSets.length, 2);
    const v1 = replicaSets.find((rs) => rs.spec.template.spec.containers[0].image === 'web:v1');
    assert.equal(v1.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.equal(v1.spec.replicas, 3);
    const after = await kubectl('rollout', 'history', 'deployment/web', '-n', 'shop');
    assert.deepEqual(revisionsOf(after.stdout), [2, 3]);
  });

  test('undo --to-revision picks that revision; repeating it is skipped', async () => {
    await kube.createDeployment('hist', 'api', { image: 'api:v1' });
    await kube.settle();
    for (const version of ['v2', 'v3']) {
      await kube.setImage('Deployment', 'hist', 'api', `api:${version}`);
      await kube.settle();
    }
    const undo = await kubectl('rollout', 'undo', 'deploy/api', '-n', 'hist', '--to-revision=1');
    assert.equal(undo.code, 0, undo.stderr);
    await kube.settle();
    assert.equal(image('Deployment', 'hist', 'api'), 'api:v1');
    assert.equal(
      kube.get('Deployment', 'hist', 'api').metadata.annotations[
        'deployment.kubernetes.io/revision'
      ],
      '4',
    );

    const again = await kubectl('rollout', 'undo', 'deploy/api', '-n', 'hist', '--to-revision=4');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /skipped rollback \(current template already matches revision 4\)/);

    const missing = await kubectl('rollout', 'undo', 'deploy/api', '-n', 'hist', '--to-revision=9');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /unable to find specified revision 9/);
  });

  test('undo of a paused Deployment is refused and changes nothing', async () => {
    await kube.createDeployment('paused', 'web', { image: 'web:v1' });
    await kube.settle();
    await kube.setImage('Deployment', 'paused', 'web', 'web:v2');
    await kube.settle();
    const pause = await kubectl('rollout', 'pause', 'deployment/web', '-n', 'paused');
    assert.equal(pause.code, 0, pause.stderr);
    const before = kube.get('Deployment', 'paused', 'web');

    const undo = await kubectl('rollout', 'undo', 'deployment/web', '-n', 'paused');
    assert.notEqual(undo.code, 0);
    assert.match(undo.stderr, /cannot rollback a paused deployment/);
    const now = kube.get('Deployment', 'paused', 'web');
    assert.equal(now.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.equal(now.spec.template.spec.containers[0].image, 'web:v2');
    const progressing = now.status.conditions.find(
      (c: { type: string }) => c.type === 'Progressing',
    );
    assert.equal(progressing.reason, 'DeploymentPaused');
  });

  test('rollout status fails on a stuck rollout with ProgressDeadlineExceeded', async () => {
    await kube.createDeployment('stuck', 'web', {
      image: 'web:v1',
      replicas: 2,
      progressDeadlineSeconds: 1,
    });
    await kube.settle();
    kube.stickRollouts('Deployment', 'stuck', 'web', true);
    await kube.setImage('Deployment', 'stuck', 'web', 'web:bad');

    const status = await kubectl(
      'rollout',
      'status',
      'deployment/web',
      '-n',
      'stuck',
      '--timeout=20s',
    );
    assert.equal(status.code, 1);
    assert.match(status.stderr, /deployment "web" exceeded its progress deadline/);
    const web = kube.get('Deployment', 'stuck', 'web');
    const progressing = web.status.conditions.find(
      (c: { type: string }) => c.type === 'Progressing',
    );
    assert.equal(progressing.status, 'False');
    assert.equal(progressing.reason, 'ProgressDeadlineExceeded');
    // maxUnavailable 0 for 2 replicas: the old pods keep serving.
    assert.equal(web.status.availableReplicas, 2);

    // Rolling back to the healthy template recovers, as it would on a cluster.
    kube.stickRollouts('Deployment', 'stuck', 'web', false);
    const undo = await kubectl('rollout', 'undo', 'deployment/web', '-n', 'stuck');
    assert.equal(undo.code, 0, undo.stderr);
    const recovered = await kubectl(
      'rollout',
      'status',
      'deployment/web',
      '-n',
      'stuck',
      '--timeout=20s',
    );
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal(image('Deployment', 'stuck', 'web'), 'web:v1');
  });

  test('get -o json, get with table output and set image', async () => {
    await kube.createDeployment('get', 'web', {
      image: 'web:v1',
      labels: { app: 'web', tier: 'front' },
    });
    await kube.createDeployment('get', 'worker', { image: 'worker:v1' });
    await kube.settle();

    const json = await kubectl('get', 'deploy', '-n', 'get', '-l', 'tier=front', '-o', 'json');
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.kind, 'List');
    assert.deepEqual(
      parsed.items.map((d: V1Deployment) => d.metadata!.name),
      ['web'],
    );
    assert.equal(parsed.items[0].status.readyReplicas, 1);

    const table = await kubectl('get', 'deployments', '-n', 'get');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    assert.match(table.stdout, /^worker\s+1\/1\s+1\s+1\s+\d+s$/m);

    const set = await kubectl('set', 'image', 'deployment/worker', 'worker=worker:v2', '-n', 'get');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /deployment.apps\/worker image updated/);
    await kube.settle();
    const worker = kube.get('Deployment', 'get', 'worker');
    assert.equal(worker.spec.template.spec.containers[0].image, 'worker:v2');
    assert.equal(worker.metadata.generation, 2);
    assert.equal(worker.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    const patch = kube.requests.find(
      (r) => r.method === 'PATCH' && r.path.endsWith('/deployments/worker'),
    );
    assert.equal(patch?.contentType, 'application/strategic-merge-patch+json');

    const missing = await kubectl('get', 'deploy/nope', '-n', 'get');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /deployments.apps "nope" not found/);
  });

  test('apply --dry-run=server reports the change and stores nothing', async () => {
    await kube.createDeployment('apply', 'web', { image: 'web:v1' });
    await kube.settle();
    const before = kube.get('Deployment', 'apply', 'web');
    const manifest = join(scratch, 'web.json');
    const edited = structuredClone(before);
    edited.spec.template.spec.containers[0].image = 'web:v9';
    writeFileSync(manifest, JSON.stringify(edited));
    // No OpenAPI documents are served, so client-side schema validation must be off.
    const apply = await kubectl('apply', '--dry-run=server', '--validate=false', '-f', manifest);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /deployment.apps\/web configured \(server dry run\)/);
    assert.deepEqual(kube.get('Deployment', 'apply', 'web'), before);
    const patch = kube.requests.findLast(
      (r) => r.method === 'PATCH' && r.path.endsWith('/apply/deployments/web'),
    );
    assert.equal(patch?.query.dryRun, 'All');
  });
});

describe('kubectl against the fake: StatefulSets and DaemonSets', { concurrency: true }, () => {
  for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
    const resource = kind.toLowerCase();
    test(`${kind}: rollout history, undo and status`, async () => {
      const ns = `${resource}s`;
      const create = kind === 'StatefulSet' ? kube.createStatefulSet : kube.createDaemonSet;
      await create(ns, 'db', { image: 'db:v1', replicas: 3 });
      await kube.settle();
      await kube.setImage(kind, ns, 'db', 'db:v2');
      const rolling = await kubectl(
        'rollout',
        'status',
        `${resource}/db`,
        '-n',
        ns,
        '--timeout=20s',
      );
      assert.equal(rolling.code, 0, rolling.stderr);
      assert.match(
        rolling.stdout,
        kind === 'StatefulSet'
          ? /partitioned roll out complete: 3 new pods have been updated/
          : /daemon set "db" successfully rolled out/,
      );

      const history = await kubectl('rollout', 'history', `${resource}/db`, '-n', ns);
      assert.equal(history.code, 0, history.stderr);
      assert.deepEqual(revisionsOf(history.stdout), [1, 2]);
      const revision1 = await kubectl(
        'rollout',
        'history',
        `${resource}/db`,
        '-n',
        ns,
        '--revision=1',
      );
      assert.match(revision1.stdout, /Image:\s+db:v1/);

      const undo = await kubectl('rollout', 'undo', `${resource}/db`, '-n', ns);
      assert.equal(undo.code, 0, undo.stderr);
      assert.match(undo.stdout, new RegExp(`${resource}.apps/db rolled back`));
      const status = await kubectl(
        'rollout',
        'status',
        `${resource}/db`,
        '-n',
        ns,
        '--timeout=20s',
      );
      assert.equal(status.code, 0, status.stderr);
      await kube.settle();
      assert.equal(image(kind, ns, 'db'), 'db:v1');

      // The v1 ControllerRevision was reused with its revision bumped to 3.
      const revisions = kube.list('ControllerRevision', ns).sort((a, b) => a.revision - b.revision);
      assert.equal(revisions.length, 2);
      assert.equal(revisions[1].revision, 3);
      assert.equal(revisions[1].data.spec.template.spec.containers[0].image, 'db:v1');
      const workload = kube.get(kind, ns, 'db');
      if (kind === 'StatefulSet') {
        assert.equal(workload.status.updateRevision, revisions[1].metadata.name);
        assert.equal(workload.status.currentRevision, revisions[1].metadata.name);
        assert.equal(workload.status.readyReplicas, 3);
      } else {
        assert.equal(workload.status.updatedNumberScheduled, 3);
        assert.equal(workload.status.numberAvailable, 3);
      }

      // Undoing to the revision already running: as on a 1.35 cluster (test/cluster/parity), the
      // server omits the template's zero creationTimestamp that kubectl 1.33 writes, its byte
      // comparison never matches, and it sends a patch that changes nothing.
      const same = await kubectl('rollout', 'undo', `${resource}/db`, '-n', ns, '--to-revision=3');
      assert.match(same.stdout, new RegExp(`${resource}.apps/db rolled back`));
      await kube.settle();
      assert.deepEqual(
        kube
          .list('ControllerRevision', ns)
          .map((r) => r.revision)
          .sort(),
        [2, 3],
        'no new revision',
      );
    });
  }

  test('StatefulSet rollout status waits while new pods are not ready', async () => {
    await kube.createStatefulSet('sts-stuck', 'db', { image: 'db:v1', replicas: 2 });
    await kube.settle();
    kube.stickRollouts('StatefulSet', 'sts-stuck', 'db', true);
    await kube.setImage('StatefulSet', 'sts-stuck', 'db', 'db:bad');
    await kube.settle();
    const status = await kubectl(
      'rollout',
      'status',
      'statefulset/db',
      '-n',
      'sts-stuck',
      '--timeout=1s',
    );
    assert.notEqual(status.code, 0);
    assert.match(status.stdout, /Waiting for 1 pods to be ready/);
    assert.match(status.stderr, /timed out waiting for the condition/);
  });
});

describe('@kubernetes/client-node against the fake', () => {
  let apps: AppsV1Api;
  before(async () => {
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    apps = config.makeApiClient(AppsV1Api);
    await kube.createDeployment('client', 'web', {
      image: 'web:v1',
      labels: { app: 'web', tier: 'front' },
    });
    await kube.createDeployment('client', 'worker', {
      image: 'worker:v1',
      labels: { app: 'worker' },
    });
    await kube.settle();
  });

  test('read and list with a label selector', async () => {
    const web = await apps.readNamespacedDeployment({ namespace: 'client', name: 'web' });
    assert.equal(web.spec?.template.spec?.containers[0]?.image, 'web:v1');
    assert.equal(web.status?.availableReplicas, 1);
    const fronts = await apps.listNamespacedDeployment({
      namespace: 'client',
      labelSelector: 'tier in (front,back),app!=worker',
    });
    assert.deepEqual(
      fronts.items.map((d) => d.metadata?.name),
      ['web'],
    );
    const notFront = await apps.listNamespacedDeployment({
      namespace: 'client',
      labelSelector: '!tier',
    });
    assert.deepEqual(
      notFront.items.map((d) => d.metadata?.name),
      ['worker'],
    );
  });

  test('json patch with an explicit Content-Type starts a rollout', async () => {
    const patched = await apps.patchNamespacedDeployment(
      {
        namespace: 'client',
        name: 'web',
        body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'web:v2' }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    assert.equal(patched.spec?.template.spec?.containers[0]?.image, 'web:v2');
    assert.equal(patched.metadata?.generation, 2);
    assert.equal(kube.requests.at(-1)?.contentType, 'application/json-patch+json');
    await kube.settle();
    const web = kube.get('Deployment', 'client', 'web');
    assert.equal(web.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    assert.equal(web.status.observedGeneration, 2);
  });

  test('replace with a stale resourceVersion is a 409 Conflict', async () => {
    const worker = await apps.readNamespacedDeployment({ namespace: 'client', name: 'worker' });
    worker.metadata!.annotations = { note: 'first' };
    await apps.replaceNamespacedDeployment({ namespace: 'client', name: 'worker', body: worker });
    worker.metadata!.annotations = { note: 'second' };
    await assert.rejects(
      apps.replaceNamespacedDeployment({ namespace: 'client', name: 'worker', body: worker }),
      (error: unknown) => {
        assert.ok(error instanceof ApiException);
        assert.equal(error.code, 409);
        assert.match(String(error.body), /"reason":"Conflict"/);
        return true;
      },
    );
    assert.equal(kube.get('Deployment', 'client', 'worker').metadata.annotations.note, 'first');
  });

  test('dryRun=All answers the would-be object and stores nothing', async () => {
    const before = kube.get('Deployment', 'client', 'worker');
    const answer = await apps.patchNamespacedDeployment(
      {
        namespace: 'client',
        name: 'worker',
        dryRun: 'All',
        body: {
          spec: { template: { spec: { containers: [{ name: 'worker', image: 'worker:dry' }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(answer.spec?.template.spec?.containers[0]?.image, 'worker:dry');
    assert.deepEqual(kube.get('Deployment', 'client', 'worker'), before);
    assert.equal(
      kube.list('ReplicaSet', 'client').filter((rs) => rs.metadata.name.startsWith('worker-'))
        .length,
      1,
    );
  });

  test('an injected 500 surfaces as ApiException 500, once', async () => {
    kube.injectFault({ method: 'GET', path: /\/deployments\/web$/, status: 500 });
    await assert.rejects(
      apps.readNamespacedDeployment({ namespace: 'client', name: 'web' }),
      (error: unknown) => {
        assert.ok(error instanceof ApiException);
        assert.equal(error.code, 500);
        return true;
      },
    );
    const web = await apps.readNamespacedDeployment({ namespace: 'client', name: 'web' });
    assert.equal(web.metadata?.name, 'web');
  });

  test('a watch from a resourceVersion streams the rollout', async () => {
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    const start = await apps.readNamespacedDeployment({ namespace: 'client', name: 'worker' });
    const events: Array<{ type: string; image: string; updated: number }> = [];
    let rolledOut!: () => void;
    const done = new Promise<void>((resolve) => (rolledOut = resolve));
    const controller = await new Watch(config).watch(
      '/apis/apps/v1/namespaces/client/deployments',
      { fieldSelector: 'metadata.name=worker', resourceVersion: start.metadata!.resourceVersion! },
      (type, object: V1Deployment) => {
        const image = object.spec!.template.spec!.containers[0].image!;
        events.push({ type, image, updated: object.status?.updatedReplicas ?? 0 });
        if (
          image === 'worker:v3' &&
          object.status?.observedGeneration === object.metadata?.generation &&
          object.status?.updatedReplicas === 1 &&
          !object.status?.unavailableReplicas
        )
          rolledOut();
      },
      () => {},
    );
    try {
      await kube.setImage('Deployment', 'client', 'worker', 'worker:v3');
      await done;
    } finally {
      controller.abort();
    }
    assert.ok(events.every((e) => e.type === 'MODIFIED'));
    assert.equal(events[0].image, 'worker:v3');
    assert.ok(events.length >= 3, `expected the rollout's steps, got ${JSON.stringify(events)}`);
  });

  test('Leases: create, then replace with a stale resourceVersion is a 409', async () => {
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    const leases = config.makeApiClient(CoordinationV1Api);
    const lease = await leases.createNamespacedLease({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'rollback-controller' },
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
      },
    });
    const taken = await leases.replaceNamespacedLease({
      namespace: 'kube-system',
      name: 'rollback-controller',
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } },
    });
    assert.notEqual(taken.metadata?.resourceVersion, lease.metadata?.resourceVersion);
    await assert.rejects(
      leases.replaceNamespacedLease({
        namespace: 'kube-system',
        name: 'rollback-controller',
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } },
      }),
      (error: unknown) => error instanceof ApiException && error.code === 409,
    );
    await assert.rejects(
      leases.createNamespacedLease({
        namespace: 'kube-system',
        body: { metadata: { name: 'rollback-controller' } },
      }),
      (error: unknown) =>
        error instanceof ApiException &&
        error.code === 409 &&
        String(error.body).includes('AlreadyExists'),
    );
    assert.equal(kube.get('Lease', 'kube-system', 'rollback-controller').spec.holderIdentity, 'b');
  });

  test('Events: generateName and an involvedObject field selector', async () => {
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    const core = config.makeApiClient(CoreV1Api);
    const web = kube.get('Deployment', 'client', 'web');
    const involvedObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'client',
      name: 'web',
      uid: web.metadata.uid,
    };
    const created = await core.createNamespacedEvent({
      namespace: 'client',
      body: {
        metadata: { generateName: 'web.' },
        involvedObject,
        reason: 'RolledBack',
        message: 'rolled back',
        type: 'Normal',
      },
    });
    assert.match(created.metadata?.name ?? '', /^web\.[a-z0-9]{5}$/);
    await core.createNamespacedEvent({
      namespace: 'client',
      body: {
        metadata: { generateName: 'worker.' },
        involvedObject: { ...involvedObject, name: 'worker' },
        reason: 'Other',
        message: 'x',
      },
    });
    const events = await core.listNamespacedEvent({
      namespace: 'client',
      fieldSelector: 'involvedObject.kind=Deployment,involvedObject.name=web',
    });
    assert.deepEqual(
      events.items.map((e) => e.reason),
      ['RolledBack'],
    );
  });

  test('a dropped connection rejects; a 404 is a NotFound Status', async () => {
    kube.injectFault({ path: /\/deployments\/web$/, dropConnection: true });
    await assert.rejects(apps.readNamespacedDeployment({ namespace: 'client', name: 'web' }));
    await assert.rejects(
      apps.readNamespacedDeployment({ namespace: 'client', name: 'nope' }),
      (error: unknown) => {
        assert.ok(error instanceof ApiException);
        assert.equal(error.code, 404);
        assert.equal(JSON.parse(String(error.body)).reason, 'NotFound');
        return true;
      },
    );
  });
});
