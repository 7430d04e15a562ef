// Parity with the real thing: from the same start state on two fake API servers, real
// `kubectl rollout undo` (v1.33) on one and our executor on the other must leave the same pod
// template (and, for a Deployment, the same annotations apart from our two records), the same
// `kubectl rollout history` revision list, and a rollout that `kubectl rollout status` accepts.
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { kubectlPath } from '../support/tools.js';
import { executorFor, makeContext, makeJob, pinned } from './kube-executor-helpers.js';

const run = promisify(execFile);
let kubectlFake: FakeKube;
let ourFake: FakeKube;
let cacheDir: string;

before(async () => {
  [kubectlFake, ourFake] = await Promise.all([
    startFakeKube({ rolloutStepMs: 10 }),
    startFakeKube({ rolloutStepMs: 10 }),
  ]);
  cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
});
after(async () => {
  await Promise.all([kubectlFake.close(), ourFake.close()]);
  rmSync(cacheDir, { recursive: true, force: true });
});

async function kubectl(fake: FakeKube, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    kubectlPath(),
    [
      '--kubeconfig',
      fake.kubeconfigPath,
      '--cache-dir',
      join(cacheDir, String(fake.url.split(':').at(-1))),
      ...args,
    ],
    { timeout: 20_000 },
  );
  return stdout;
}

/** Revision numbers in `kubectl rollout history` output. */
function revisions(history: string): number[] {
  return history
    .split('\n')
    .map((line) => /^(\d+)\s/.exec(line)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
}

const cases = [
  { kind: 'Deployment', resource: 'deployment', create: 'createDeployment', replicas: 3 },
  { kind: 'StatefulSet', resource: 'statefulset', create: 'createStatefulSet', replicas: 2 },
  { kind: 'DaemonSet', resource: 'daemonset', create: 'createDaemonSet', replicas: 2 },
] as const;

describe('parity with kubectl rollout undo', () => {
  for (const c of cases) {
    test(c.kind, async () => {
      const name = `app-${c.resource}`;
      for (const fake of [kubectlFake, ourFake]) {
        await fake[c.create]('default', name, {
          image: 'registry.example/app:v1',
          containers: [
            { name: 'app', image: 'registry.example/app:v1' },
            { name: 'sidecar', image: 'registry.example/proxy:1.0' },
          ],
          replicas: c.replicas,
          annotations: { team: 'payments' },
        });
        await fake.settle();
        await fake.setImage(c.kind, 'default', name, 'registry.example/app:v2', 'app');
        await fake.settle();
      }

      await kubectl(kubectlFake, 'rollout', 'undo', `${c.resource}/${name}`, '-n', 'default');
      const executor = executorFor(ourFake.kubeconfigPath);
      const job = await pinned(executor, makeJob({ kind: c.kind, namespace: 'default', name }));
      const result = await executor.execute(job, makeContext().ctx);
      assert.equal(result.outcome, 'succeeded', result.reason);
      await Promise.all([kubectlFake.settle(), ourFake.settle()]);

      const theirs = kubectlFake.get(c.kind, 'default', name);
      const ours = ourFake.get(c.kind, 'default', name);
      assert.deepEqual(ours.spec.template, theirs.spec.template);
      assert.equal(ours.spec.template.spec.containers[0].image, 'registry.example/app:v1');
      if (c.kind === 'Deployment') {
        const strip = (a: Record<string, string>) => {
          const copy = { ...a };
          delete copy['rollback-controller.io/last-rollback'];
          delete copy['kubernetes.io/change-cause'];
          return copy;
        };
        assert.deepEqual(strip(ours.metadata.annotations), strip(theirs.metadata.annotations));
      }

      const [theirHistory, ourHistory] = await Promise.all([
        kubectl(kubectlFake, 'rollout', 'history', `${c.resource}/${name}`, '-n', 'default'),
        kubectl(ourFake, 'rollout', 'history', `${c.resource}/${name}`, '-n', 'default'),
      ]);
      assert.ok(revisions(theirHistory).length >= 2, theirHistory);
      assert.deepEqual(revisions(ourHistory), revisions(theirHistory));

      const status = await kubectl(
        ourFake,
        'rollout',
        'status',
        `${c.resource}/${name}`,
        '-n',
        'default',
        '--timeout=20s',
      );
      assert.match(status, /successfully rolled out|complete/);
    });
  }
});
