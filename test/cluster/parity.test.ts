// One scenario table, two API servers: each scenario runs on the fake (test/support/fake-kube)
// and on the real control plane, and records what a user would see (kubectl's answers, the
// revision lists, the executor's outcome and reason, the pod template). Both must record the
// same; where they differ, the fake is wrong.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import type { WorkloadKind, WorkloadOptions } from '../support/fake-kube/types.js';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { kubectlPath } from '../support/tools.js';
import { executorFor, makeContext, makeJob, pinned } from '../integration/kube-executor-helpers.js';
import { historyRevisions } from './support.js';

interface Backend {
  name: string;
  kubeconfig: string;
  create(kind: WorkloadKind, ns: string, name: string, o: WorkloadOptions): Promise<void>;
  setImage(
    kind: WorkloadKind,
    ns: string,
    name: string,
    image: string,
    container?: string,
  ): Promise<void>;
  /** Waits until the workload's rollout is done (the fake: every rollout). */
  settle(kind: WorkloadKind, ns: string, name: string): Promise<void>;
  get(kind: string, ns: string, name: string): Promise<any>;
  /** ControllerRevisions of a namespace, oldest revision first. */
  revisions(ns: string): Promise<any[]>;
}

let fake: FakeKube;
let cluster: KubeCluster;
let scratch: string;
let backends: Backend[];
let calls = 0;

before(async () => {
  [fake, cluster] = await Promise.all([startFakeKube({ rolloutStepMs: 10 }), startKubeCluster()]);
  scratch = mkdtempSync(join(tmpdir(), 'parity-'));
  const byRevision = (a: any, b: any) => a.revision - b.revision;
  backends = [
    {
      name: 'fake',
      kubeconfig: fake.kubeconfigPath,
      async create(kind, ns, name, o) {
        const create = {
          Deployment: fake.createDeployment,
          StatefulSet: fake.createStatefulSet,
          DaemonSet: fake.createDaemonSet,
        };
        await create[kind](ns, name, o);
      },
      setImage: (kind, ns, name, image, container) =>
        fake.setImage(kind, ns, name, image, container),
      settle: () => fake.settle(),
      get: async (kind, ns, name) => fake.get(kind, ns, name),
      revisions: async (ns) => fake.list('ControllerRevision', ns).sort(byRevision),
    },
    {
      name: 'real',
      kubeconfig: cluster.kubeconfigPath,
      async create(kind, ns, name, o) {
        const exists = await cluster.http.call('GET', `/api/v1/namespaces/${ns}`);
        if (exists.status === 404) await cluster.createNamespace(ns);
        await cluster.createWorkload(kind, ns, name, o);
      },
      setImage: (kind, ns, name, image, container) =>
        cluster.setImage(kind, ns, name, image, container),
      settle: async (kind, ns, name) => void (await cluster.waitRolledOut(kind, ns, name)),
      get: (kind, ns, name) => cluster.get(kind, ns, name),
      revisions: async (ns) =>
        (
          (await cluster.http.ok('GET', `/apis/apps/v1/namespaces/${ns}/controllerrevisions`))
            .items as any[]
        ).sort(byRevision),
    },
  ];
});
after(async () => {
  await Promise.all([fake?.close(), cluster?.stop()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function kubectl(b: Backend, ...args: string[]) {
  const r = await execa(
    kubectlPath(),
    ['--kubeconfig', b.kubeconfig, '--cache-dir', join(scratch, `cache-${++calls}`), ...args],
    { reject: false, timeout: 60_000 },
  );
  return { code: r.exitCode, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

const image = (w: any, i = 0) => w.spec.template.spec.containers[i].image as string;
const ourRecords = ['rollback-controller.io/last-rollback', 'kubernetes.io/change-cause'];
function withoutOurRecords(a: Record<string, string> = {}) {
  return Object.fromEntries(Object.entries(a).filter(([k]) => !ourRecords.includes(k)));
}

/** The Deployment paused/web's Progressing condition once its controller saw the pause. */
async function waitPausedCondition(b: Backend): Promise<{ reason: string }> {
  const end = Date.now() + 30_000;
  for (;;) {
    const d = await b.get('Deployment', 'paused', 'web');
    const c = d.status?.conditions?.find((x: { type: string }) => x.type === 'Progressing');
    if (c?.reason === 'DeploymentPaused' || Date.now() > end) return c ?? { reason: 'none' };
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `scenario` on both API servers; both must see the same. */
async function same(scenario: (b: Backend) => Promise<unknown>): Promise<void> {
  const [onFake, onReal] = [await scenario(backends[0]), await scenario(backends[1])];
  assert.deepEqual(onFake, onReal, 'the fake (actual) differs from the real API server (expected)');
}

const kinds = [
  { kind: 'Deployment', resource: 'deployment', replicas: 3 },
  { kind: 'StatefulSet', resource: 'statefulset', replicas: 2 },
  // The real cluster has two nodes: a DaemonSet runs two pods, as the fake's replicas: 2 says.
  { kind: 'DaemonSet', resource: 'daemonset', replicas: 2 },
] as const;

describe('fake and real API server: the same outcomes and revisions', () => {
  for (const c of kinds) {
    test(`${c.kind}: kubectl rollout undo and our executor leave the same workload`, async () => {
      await same(async (b) => {
        const ns = `undo-${c.resource}`;
        const opts = {
          image: 'registry.example/app:v1',
          containers: [
            { name: 'app', image: 'registry.example/app:v1' },
            { name: 'sidecar', image: 'registry.example/proxy:1.0' },
          ],
          replicas: c.replicas,
          annotations: { team: 'payments' },
        };
        for (const name of ['theirs', 'ours']) {
          await b.create(c.kind, ns, name, opts);
          await b.settle(c.kind, ns, name);
          await b.setImage(c.kind, ns, name, 'registry.example/app:v2', 'app');
          await b.settle(c.kind, ns, name);
        }
        const undo = await kubectl(b, 'rollout', 'undo', `${c.resource}/theirs`, '-n', ns);
        const executor = executorFor(b.kubeconfig, { requestTimeoutMs: 15_000 });
        const job = await pinned(executor, makeJob({ kind: c.kind, namespace: ns, name: 'ours' }));
        const result = await executor.execute(job, makeContext({ rolloutTimeoutMs: 120_000 }).ctx);
        await b.settle(c.kind, ns, 'theirs');
        await b.settle(c.kind, ns, 'ours');
        const [theirs, ours] = [await b.get(c.kind, ns, 'theirs'), await b.get(c.kind, ns, 'ours')];
        const history = async (name: string) =>
          historyRevisions(
            (await kubectl(b, 'rollout', 'history', `${c.resource}/${name}`, '-n', ns)).stdout,
          );
        return {
          undo,
          outcome: result.outcome,
          reason: result.reason,
          pinned: [job.fromRevision, job.toRevision],
          images: [ours.spec.template.spec.containers.map((x: any) => x.image)],
          sameTemplate: JSON.stringify(ours.spec.template) === JSON.stringify(theirs.spec.template),
          sameAnnotations:
            JSON.stringify(withoutOurRecords(ours.metadata.annotations)) ===
            JSON.stringify(withoutOurRecords(theirs.metadata.annotations)),
          history: [await history('theirs'), await history('ours')],
          status: (
            await kubectl(b, 'rollout', 'status', `${c.resource}/ours`, '-n', ns, '--timeout=60s')
          ).stdout
            .split('\n')
            .at(-1),
        };
      });
    });
  }

  test('Deployment: undo --to-revision, the same again, and a revision that does not exist', async () => {
    await same(async (b) => {
      const ns = 'to-revision';
      await b.create('Deployment', ns, 'api', { image: 'api:v1' });
      await b.settle('Deployment', ns, 'api');
      for (const v of ['v2', 'v3']) {
        await b.setImage('Deployment', ns, 'api', `api:${v}`);
        await b.settle('Deployment', ns, 'api');
      }
      const undo = await kubectl(b, 'rollout', 'undo', 'deploy/api', '-n', ns, '--to-revision=1');
      await b.settle('Deployment', ns, 'api');
      const d = await b.get('Deployment', ns, 'api');
      return {
        undo,
        image: image(d),
        revision: d.metadata.annotations['deployment.kubernetes.io/revision'],
        again: await kubectl(b, 'rollout', 'undo', 'deploy/api', '-n', ns, '--to-revision=4'),
        missing: await kubectl(b, 'rollout', 'undo', 'deploy/api', '-n', ns, '--to-revision=9'),
      };
    });
  });

  test('StatefulSet and DaemonSet: the v1 ControllerRevision is reused as revision 3', async () => {
    for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
      await same(async (b) => {
        const ns = `reuse-${kind.toLowerCase()}`;
        await b.create(kind, ns, 'db', { image: 'db:v1', replicas: 2 });
        await b.settle(kind, ns, 'db');
        await b.setImage(kind, ns, 'db', 'db:v2');
        await b.settle(kind, ns, 'db');
        const undo = await kubectl(b, 'rollout', 'undo', `${kind.toLowerCase()}/db`, '-n', ns);
        await b.settle(kind, ns, 'db');
        const revisions = await b.revisions(ns);
        const w = await b.get(kind, ns, 'db');
        return {
          undo,
          revisions: revisions.map((r) => [r.revision, image(r.data)]),
          image: image(w),
          ...(kind === 'StatefulSet'
            ? {
                current: w.status.currentRevision === revisions.at(-1).metadata.name,
                update: w.status.updateRevision === revisions.at(-1).metadata.name,
              }
            : { updated: w.status.updatedNumberScheduled, available: w.status.numberAvailable }),
          same: await kubectl(
            b,
            'rollout',
            'undo',
            `${kind.toLowerCase()}/db`,
            '-n',
            ns,
            '--to-revision=3',
          ),
        };
      });
    }
  });

  test('a paused Deployment: kubectl refuses the undo, the executor skips it', async () => {
    await same(async (b) => {
      const ns = 'paused';
      await b.create('Deployment', ns, 'web', { image: 'web:v1' });
      await b.settle('Deployment', ns, 'web');
      await b.setImage('Deployment', ns, 'web', 'web:v2');
      await b.settle('Deployment', ns, 'web');
      const pause = await kubectl(b, 'rollout', 'pause', 'deployment/web', '-n', ns);
      const before = await b.get('Deployment', ns, 'web');
      const undo = await kubectl(b, 'rollout', 'undo', 'deployment/web', '-n', ns);
      const executor = executorFor(b.kubeconfig, { requestTimeoutMs: 15_000 });
      const job = await pinned(
        executor,
        makeJob({ kind: 'Deployment', namespace: ns, name: 'web' }),
      );
      const result = await executor.execute(job, makeContext().ctx);
      const now = await b.get('Deployment', ns, 'web');
      return {
        pause,
        undo,
        outcome: result.outcome,
        reason: result.reason,
        // The spec (generation); the real Deployment controller writes the DeploymentPaused
        // status a moment after `kubectl rollout pause`, so the resourceVersion may move.
        unchanged: now.metadata.generation === before.metadata.generation,
        progressing: (await waitPausedCondition(b)).reason,
        image: image(now),
      };
    });
  });

  test('executor skips: no earlier revision; moved on after the alert was pinned', async () => {
    await same(async (b) => {
      const ns = 'skips';
      const executor = executorFor(b.kubeconfig, { requestTimeoutMs: 15_000 });
      await b.create('Deployment', ns, 'single', { image: 'single:v1' });
      await b.settle('Deployment', ns, 'single');
      const single = await executor.execute(
        await pinned(executor, makeJob({ kind: 'Deployment', namespace: ns, name: 'single' })),
        makeContext().ctx,
      );
      await b.create('Deployment', ns, 'moving', { image: 'moving:v1' });
      await b.settle('Deployment', ns, 'moving');
      await b.setImage('Deployment', ns, 'moving', 'moving:v2');
      await b.settle('Deployment', ns, 'moving');
      const job = await pinned(
        executor,
        makeJob({ kind: 'Deployment', namespace: ns, name: 'moving' }),
      );
      await b.setImage('Deployment', ns, 'moving', 'moving:v3');
      await b.settle('Deployment', ns, 'moving');
      const moved = await executor.execute(job, makeContext().ctx);
      return {
        single: [single.outcome, single.reason],
        moved: [moved.outcome, moved.reason],
        image: image(await b.get('Deployment', ns, 'moving')),
      };
    });
  });
});
