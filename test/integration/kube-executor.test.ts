// The Kubernetes executor against the fake API server: Deployment rollback end to end, every
// skip rule, retries under injected faults, plan(), recover() and availability().
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeKubeToken, startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { executorFor, makeContext, makeJob, pinned } from './kube-executor-helpers.js';
import type { Executor } from '../../src/model/executor.js';
import type { WorkloadRef } from '../../src/model/workload-ref.js';

const LAST = 'rollback-controller.io/last-rollback';
let fake: FakeKube;
let executor: Executor;
let n = 0;

before(async () => {
  fake = await startFakeKube({ rolloutStepMs: 10 });
  executor = executorFor(fake.kubeconfigPath);
});
after(async () => {
  await fake.close();
});

/** A Deployment at revision 2 (v1 → v2), settled. */
async function deployedTwice(
  options: { annotations?: Record<string, string>; replicas?: number } = {},
): Promise<WorkloadRef> {
  const ref: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: `web${++n}` };
  await fake.createDeployment(ref.namespace, ref.name, {
    image: 'registry.example/web:v1',
    containers: [{ name: 'web', image: 'registry.example/web:v1' }],
    replicas: options.replicas ?? 2,
    ...(options.annotations ? { annotations: options.annotations } : {}),
  });
  await fake.settle();
  await fake.setImage('Deployment', ref.namespace, ref.name, 'registry.example/web:v2');
  await fake.settle();
  return ref;
}

const image = (obj: {
  spec: { template: { spec: { containers: Array<{ image: string }> } } };
}): string => obj.spec.template.spec.containers[0].image;
const templatePatches = (name: string) =>
  fake.requests.filter(
    (r) =>
      r.method === 'PATCH' &&
      r.path.endsWith(`/deployments/${name}`) &&
      !String(r.query?.dryRun ?? '').includes('All') &&
      JSON.stringify(r.body ?? '').includes('/spec/template'),
  );

async function mergePatch(ref: WorkloadRef, body: unknown): Promise<void> {
  const res = await fetch(
    `${fake.url}/apis/apps/v1/namespaces/${ref.namespace}/deployments/${ref.name}`,
    {
      method: 'PATCH',
      headers: {
        'content-type': 'application/merge-patch+json',
        authorization: `Bearer ${fakeKubeToken}`,
      },
      body: JSON.stringify(body),
    },
  );
  assert.equal(res.status, 200, await res.text());
}

describe('Deployment rollback', () => {
  test('v1 → v2, execute: template back to v1, recorded, Event, rollout followed', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    assert.equal(job.fromRevision, 2);
    assert.equal(job.toRevision, 1);
    const { ctx, events, updates } = makeContext();

    const result = await executor.execute(job, ctx);

    assert.equal(result.outcome, 'succeeded', result.reason);
    const d = fake.get('Deployment', ref.namespace, ref.name);
    assert.equal(image(d), 'registry.example/web:v1');
    assert.equal(d.spec.template.metadata.labels['pod-template-hash'], undefined);
    const record = JSON.parse(d.metadata.annotations[LAST]);
    assert.equal(record.jobId, job.id);
    assert.equal(record.alert, 'CriticalErrorRate');
    assert.equal(record.trigger, 'error_rate_threshold');
    assert.equal(record.fromRevision, 2);
    assert.equal(record.toRevision, 1);
    assert.ok(!Number.isNaN(Date.parse(record.at)));
    assert.match(d.metadata.annotations['kubernetes.io/change-cause'], /revision 2 to 1/);
    // The old ReplicaSet became current again and was renumbered, as in a real cluster.
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '3');

    assert.equal(updates.length, 1);
    // The rollout followed is the one this patch started: the generation it produced.
    assert.equal(updates[0]?.rollout?.generation, d.metadata.generation);
    assert.deepEqual(
      { ...updates[0], actedAt: undefined, rollout: undefined },
      {
        patched: true,
        rollout: undefined,
        actedAt: undefined,
        fromRevision: 2,
        toRevision: 1,
        images: [
          { container: 'web', from: 'registry.example/web:v2', to: 'registry.example/web:v1' },
        ],
      },
    );
    const progress = events.filter((e) => e.event === 'progress');
    assert.ok(progress.length >= 1);
    assert.match(progress.at(-1)!.message, /^2\/2 updated, 2\/2 ready$/);
    assert.deepEqual(progress.at(-1)!.data, { updated: 2, ready: 2, desired: 2 });
    assert.ok(events.some((e) => e.event === 'patched'));

    const kubeEvents = fake.list('Event', ref.namespace);
    const ev = kubeEvents.find(
      (e: { involvedObject?: { name?: string } }) => e.involvedObject?.name === ref.name,
    );
    assert.ok(ev, 'an Event on the Deployment');
    assert.equal(ev.reason, 'RollbackTriggered');
    assert.equal(ev.involvedObject.kind, 'Deployment');
    assert.equal(ev.involvedObject.uid, d.metadata.uid);
    assert.match(ev.message, /revision 2 to 1.*CriticalErrorRate/);
    assert.equal(templatePatches(ref.name).length, 1);
  });

  test('plan(): server dry run, images from → to, nothing changed', async () => {
    const ref = await deployedTwice();
    const before = fake.get('Deployment', ref.namespace, ref.name);
    const plan = await executor.plan(makeJob(ref));
    assert.equal(plan.action, 'rollback', plan.reason);
    assert.equal(plan.serverDryRun, true);
    assert.equal(plan.fromRevision, 2);
    assert.equal(plan.toRevision, 1);
    assert.deepEqual(plan.changes?.images, [
      { container: 'web', from: 'registry.example/web:v2', to: 'registry.example/web:v1' },
    ]);
    const after = fake.get('Deployment', ref.namespace, ref.name);
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.equal(image(after), 'registry.example/web:v2');
    const dry = fake.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/${ref.name}`),
    );
    assert.equal(dry.length, 1);
    assert.equal(dry[0].query.dryRun, 'All');
    assert.equal(dry[0].contentType, 'application/json-patch+json');
  });

  test('plan() of a missing workload is a skip, not an error', async () => {
    const plan = await executor.plan(
      makeJob({ kind: 'Deployment', namespace: 'default', name: 'nope' }),
    );
    assert.deepEqual(plan, { action: 'skip', reason: 'Deployment default/nope not found' });
  });
});

describe('skips', () => {
  test('paused Deployment', async () => {
    const ref = await deployedTwice();
    await mergePatch(ref, { spec: { paused: true } });
    const job = await pinned(executor, makeJob(ref));
    const result = await executor.execute(job, makeContext().ctx);
    assert.equal(result.outcome, 'skipped');
    assert.match(result.reason, /paused/);
    assert.equal(templatePatches(ref.name).length, 0);
  });

  test('no earlier revision', async () => {
    const ref: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: `single${++n}` };
    await fake.createDeployment(ref.namespace, ref.name, { image: 'web:v1' });
    await fake.settle();
    const job = await pinned(executor, makeJob(ref));
    const plan = await executor.plan(job);
    assert.equal(plan.action, 'skip');
    assert.match(plan.reason, /no earlier revision/);
    const result = await executor.execute(job, makeContext().ctx);
    assert.equal(result.outcome, 'skipped');
    assert.match(result.reason, /no earlier revision/);
  });

  test('moved on: a newer deploy after the alert was pinned', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    await fake.setImage('Deployment', ref.namespace, ref.name, 'registry.example/web:v3');
    await fake.settle();
    const result = await executor.execute(job, makeContext().ctx);
    assert.equal(result.outcome, 'skipped');
    assert.equal(result.reason, 'workload moved on: revision 3 is current, alert was for 2');
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v3');
  });

  test('moved on: a manual undo after the alert started brings back a reused ReplicaSet → skipped', async () => {
    const ref = await deployedTwice();
    const startsAt = new Date().toISOString();
    // Server times have 1 s resolution: the undo lands in a later second than the alert start.
    const later = Date.parse(startsAt) + 1000;
    while (Date.now() <= later) await new Promise((r) => setTimeout(r, 20));
    const url = `${fake.url}/apis/apps/v1/namespaces/${ref.namespace}/deployments/${ref.name}?fieldManager=kubectl-rollout`;
    const undo = await fetch(url, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/strategic-merge-patch+json',
        authorization: `Bearer ${fakeKubeToken}`,
      },
      body: JSON.stringify({
        spec: {
          template: { spec: { containers: [{ name: 'web', image: 'registry.example/web:v1' }] } },
        },
      }),
    });
    assert.equal(undo.status, 200, await undo.text());
    await fake.settle();
    const v1 = fake
      .list('ReplicaSet', ref.namespace)
      .find((rs) => rs.spec.template.spec.containers[0].image === 'registry.example/web:v1');
    assert.equal(v1.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.ok(
      Date.parse(v1.metadata.creationTimestamp) < Date.parse(startsAt),
      'created before the alert',
    );

    const base = makeJob(ref);
    const job = await pinned(executor, { ...base, alert: { ...base.alert, startsAt } });
    assert.equal(job.fromRevision, 3);
    const result = await executor.execute(job, makeContext().ctx);
    assert.equal(result.outcome, 'skipped');
    assert.match(
      result.reason,
      /^workload moved on: revision 3 became current at \S+, after the alert started at \S+ \(ReplicaSet \S+ reused; pod template last written by kubectl-rollout at \S+\)$/,
    );
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v1');
  });

  test('opt-out annotation', async () => {
    const ref = await deployedTwice({ annotations: { 'rollback-controller.io/disabled': 'true' } });
    const result = await executor.execute(await pinned(executor, makeJob(ref)), makeContext().ctx);
    assert.equal(result.outcome, 'skipped');
    assert.match(result.reason, /opted out/);
  });

  test('refuses to roll back its own rollback; the same alert again is "already handled"', async () => {
    const ref = await deployedTwice();
    const first = await executor.execute(await pinned(executor, makeJob(ref)), makeContext().ctx);
    assert.equal(first.outcome, 'succeeded', first.reason);
    await fake.settle();
    const second = await pinned(executor, makeJob(ref));
    assert.equal(second.fromRevision, 3);
    const plan = await executor.plan(second);
    assert.equal(plan.action, 'skip');
    assert.match(plan.reason, /refusing to roll back a rollback/);
    const result = await executor.execute(second, makeContext().ctx);
    assert.equal(result.outcome, 'skipped');
    assert.match(result.reason, /refusing to roll back a rollback/);
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v1');
  });

  test('a job already marked patched is never patched again', async () => {
    const ref = await deployedTwice();
    const job = { ...(await pinned(executor, makeJob(ref))), patched: true };
    const result = await executor.execute(job, makeContext().ctx);
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(templatePatches(ref.name).length, 0);
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v2');
  });
});

describe('faults', () => {
  const cases: Array<
    [string, { status?: number; untilClientGone?: boolean; dropConnection?: boolean }]
  > = [
    ['409 Conflict', { status: 409 }],
    ['500', { status: 500 }],
    ['slow response (past the request timeout)', { untilClientGone: true }],
    ['dropped connection', { dropConnection: true }],
  ];
  for (const [name, fault] of cases) {
    test(`${name} on PATCH: retried, exactly one successful template patch`, async () => {
      const ref = await deployedTwice();
      // A timeout no ordinary request of a busy machine reaches; the slow fault outlasts it by
      // holding the PATCH until the client has given up.
      const ex = executorFor(fake.kubeconfigPath, { requestTimeoutMs: 2000 });
      const job = await pinned(ex, makeJob(ref));
      const path = new RegExp(`/deployments/${ref.name}$`);
      fake.injectFault({ method: 'PATCH', path, times: 2, ...fault });
      const before = fake.requests.length;
      const generation = fake.get('Deployment', ref.namespace, ref.name).metadata.generation;
      const result = await ex.execute(job, makeContext().ctx);
      fake.clearFaults();
      assert.equal(result.outcome, 'succeeded', result.reason);
      assert.equal(
        image(fake.get('Deployment', ref.namespace, ref.name)),
        'registry.example/web:v1',
      );
      assert.equal(
        fake.get('Deployment', ref.namespace, ref.name).metadata.generation,
        generation + 1,
        'the template changed once',
      );
      const patches = fake.requests
        .slice(before)
        .filter((r) => r.method === 'PATCH' && path.test(r.path));
      // No owner to suspend, so no dry run: every PATCH here is a real one.
      if (fault.untilClientGone) {
        // The slow PATCH lands once the client gave up. Whether the client's retry is a re-read
        // that finds the job's own record, or a PATCH whose resourceVersion test fails first,
        // depends on which comes first; either way nothing is patched a second time.
        assert.ok(patches.length <= 3, `no PATCH after the re-read (${patches.length})`);
      } else {
        assert.ok(patches.length >= 2, `faulted calls were retried (${patches.length} PATCHes)`);
        // Faulted PATCHes (the first two) never applied; after them exactly one real one did.
        assert.equal(patches.slice(2).length, 1, 'exactly one applied PATCH of /spec/template');
      }
      const d = fake.get('Deployment', ref.namespace, ref.name);
      assert.equal(JSON.parse(d.metadata.annotations[LAST]).jobId, job.id);
    });
  }

  for (const [name, fault] of [
    ['409 Conflict', { status: 409 }],
    ['dropped connection', { dropConnection: true }],
  ] as const) {
    test(`${name} on the real PATCH: re-read, re-patched once`, async () => {
      const ref = await deployedTwice();
      const job = await pinned(executor, makeJob(ref));
      const path = new RegExp(`/deployments/${ref.name}$`);
      const before = fake.requests.length;
      // No owner to suspend: no dry run, so the first PATCH is the real one.
      fake.injectFault({ method: 'PATCH', path, times: 1, ...fault });
      const result = await executor.execute(job, makeContext().ctx);
      assert.equal(result.outcome, 'succeeded', result.reason);
      const seen = fake.requests
        .slice(before)
        .filter((r) => path.test(r.path) && r.method !== 'POST');
      const kinds = seen.map((r) =>
        r.method === 'PATCH' ? (r.query?.dryRun ? 'dry' : 'patch') : r.method,
      );
      // read, faulted PATCH, re-read, PATCH that applied; then rollout polling GETs.
      assert.deepEqual(kinds.slice(0, 4), ['GET', 'patch', 'GET', 'patch']);
      assert.equal(kinds.filter((k) => k === 'patch').length, 2);
      assert.equal(
        image(fake.get('Deployment', ref.namespace, ref.name)),
        'registry.example/web:v1',
      );
    });
  }

  // Item 7 of issue 12: a 422 is told apart by the Status reason and causes, never by its text.
  const statusBody = (message: string, causes: Array<Record<string, string>>) => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Invalid',
    details: causes.length ? { causes } : {},
    code: 422,
  });
  // No owner to suspend, so no dry run: the first PATCH of the workload is the real one.
  const faultOnRealPatch = (ref: WorkloadRef, body: unknown) =>
    fake.injectFault({
      method: 'PATCH',
      path: new RegExp(`/deployments/${ref.name}$`),
      status: 422,
      body,
      times: 1,
    });
  const realPatches = (ref: WorkloadRef, before: number) =>
    fake.requests
      .slice(before)
      .filter(
        (r) =>
          r.method === 'PATCH' && r.path.endsWith(`/deployments/${ref.name}`) && !r.query?.dryRun,
      );

  test('422 validation error whose message says "test": failed at once, never retried', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    const before = fake.requests.length;
    faultOnRealPatch(
      ref,
      statusBody(
        `Deployment.apps "test-web" is invalid: spec.template.spec.containers[0].image: Required value (namespace test-payments)`,
        [
          {
            reason: 'FieldValueRequired',
            field: 'spec.template.spec.containers[0].image',
            message: 'Required value',
          },
        ],
      ),
    );
    const result = await executor.execute(job, makeContext().ctx);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /^patching Deployment default\/web\d+ failed: .*422 .*is invalid/);
    assert.equal(realPatches(ref, before).length, 1, 'a validation error is not retried');
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v2');
  });

  test('422 from a JSON patch the server could not apply (failed test op): re-read, patched once', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    const before = fake.requests.length;
    // The real API server's answer to a failed `test` operation (kube-apiserver 1.35).
    faultOnRealPatch(
      ref,
      statusBody('the server rejected our request due to an error in our request', []),
    );
    const result = await executor.execute(job, makeContext().ctx);
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(realPatches(ref, before).length, 2);
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v1');
  });

  test('GETs failing with 503 are retried too', async () => {
    const ref = await deployedTwice();
    fake.injectFault({
      method: 'GET',
      path: new RegExp(`/deployments/${ref.name}$`),
      status: 503,
      times: 2,
    });
    const plan = await executor.plan(makeJob(ref));
    fake.clearFaults();
    assert.equal(plan.action, 'rollback', plan.reason);
  });

  test('403 on PATCH fails the job with the reason, no retry', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    fake.injectFault({
      method: 'PATCH',
      path: new RegExp(`/deployments/${ref.name}$`),
      status: 403,
      times: 5,
    });
    const result = await executor.execute(job, makeContext().ctx);
    fake.clearFaults();
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /rejected the rollback patch.*403/);
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v2');
  });
});

describe('shutdown and restart', () => {
  test('abort after patching throws AbortError with patched: true already recorded', async () => {
    const ref = await deployedTwice();
    fake.stickRollouts('Deployment', ref.namespace, ref.name, true);
    const job = await pinned(executor, makeJob(ref));
    const rc = makeContext({ onUpdate: () => setTimeout(() => rc.abort.abort(), 30) });
    await assert.rejects(executor.execute(job, rc.ctx), { name: 'AbortError' });
    assert.equal(rc.updates[0]?.patched, true);
    fake.stickRollouts('Deployment', ref.namespace, ref.name, false);
  });

  test('recover(): patch found on the workload → follows the rollout, never patches again', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    fake.stickRollouts('Deployment', ref.namespace, ref.name, true);
    const first = makeContext({ onUpdate: () => setTimeout(() => first.abort.abort(), 10) });
    await assert.rejects(executor.execute(job, first.ctx), { name: 'AbortError' });
    // Restart: the journal lost `patched` (crash between PATCH and fsync); the annotation tells.
    fake.stickRollouts('Deployment', ref.namespace, ref.name, false);
    const before = templatePatches(ref.name).length;
    const { ctx, updates, events } = makeContext();
    const result = await executor.recover!(job, ctx);
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(templatePatches(ref.name).length, before);
    assert.equal(before, 1);
    assert.equal(updates[0]?.patched, true);
    assert.ok(events.some((e) => e.event === 'patch_found'));
  });

  test('recover(): not applied and still at the pinned revision → runs the rollback', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    const result = await executor.recover!(job, makeContext().ctx);
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(image(fake.get('Deployment', ref.namespace, ref.name)), 'registry.example/web:v1');
  });

  test('recover(): not applied and moved on → skipped', async () => {
    const ref = await deployedTwice();
    const job = await pinned(executor, makeJob(ref));
    await fake.setImage('Deployment', ref.namespace, ref.name, 'registry.example/web:v3');
    await fake.settle();
    const result = await executor.recover!(job, makeContext().ctx);
    assert.equal(result.outcome, 'skipped');
    assert.match(result.reason, /moved on/);
  });
});

describe('availability', () => {
  test('reachable fake API server', async () => {
    assert.deepEqual(await executor.availability(), { available: true });
  });

  test('kubeconfig pointing at a closed port: unavailable, plan says so, execute fails cleanly', async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), 'kube-closed-'));
    try {
      const path = join(dir, 'kubeconfig');
      writeFileSync(
        path,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "http://127.0.0.1:' +
            port +
            '", insecure-skip-tls-verify: true}}]',
          'users: [{name: u, user: {token: super-secret-token}}]',
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
        ].join('\n'),
      );
      const ex = executorFor(path, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
      const a = await ex.availability();
      assert.equal(a.available, false);
      assert.match(a.reason ?? '', /^API server unreachable: .*ECONNREFUSED/);
      assert.doesNotMatch(a.reason ?? '', /super-secret-token/);
      const ref: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };
      const plan = await ex.plan(makeJob(ref));
      assert.equal(plan.action, 'unavailable');
      assert.match(plan.reason, /unreachable/);
      const result = await ex.execute(makeJob(ref), makeContext().ctx);
      assert.equal(result.outcome, 'failed');
      assert.match(result.reason, /ECONNREFUSED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
