// The dry run and the real run agree: for each case the same workload is first planned
// (plan(), which writes nothing) and then executed; what the plan promised is what execute()
// does. A rollback plan with a passing server dry run is a patched, succeeded job with the same
// revisions and images; a skip is a skip for the same reason; a plan whose server dry run was
// rejected is a job the API server rejected too (at its dry run when owners are suspended first,
// else at the real PATCH, which then is the check) and that touched nothing.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Executor, Plan } from '../../src/model/executor.js';
import type { Job } from '../../src/model/job.js';
import type { WorkloadRef } from '../../src/model/workload-ref.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { executorFor, makeContext, makeJob, pinned } from './kube-executor-helpers.js';

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

/** The kinds the fake API server serves (a Rollout is proven on the real cluster). */
type Kind = Exclude<WorkloadRef['kind'], 'Rollout'>;

/** A workload at revision 2 (v1 → v2), settled. */
async function deployedTwice(
  kind: Kind,
  annotations?: Record<string, string>,
): Promise<WorkloadRef> {
  const ref: WorkloadRef = { kind, namespace: 'agree', name: `w${++n}` };
  const opts = { image: `${ref.name}:v1`, ...(annotations ? { annotations } : {}) };
  if (kind === 'Deployment') await fake.createDeployment(ref.namespace, ref.name, opts);
  else if (kind === 'StatefulSet') await fake.createStatefulSet(ref.namespace, ref.name, opts);
  else await fake.createDaemonSet(ref.namespace, ref.name, opts);
  await fake.settle();
  await fake.setImage(kind, ref.namespace, ref.name, `${ref.name}:v2`);
  await fake.settle();
  return ref;
}

const image = (ref: WorkloadRef): string =>
  fake.get(ref.kind, ref.namespace, ref.name).spec.template.spec.containers[0].image as string;

interface Case {
  name: string;
  /** Builds the workload and the job as the queue would hand it to the executor. */
  arrange(): Promise<{ ref: WorkloadRef; job: Job; cleanUp?: () => void }>;
  expect: 'rollback' | 'skip' | 'rejected';
  reason?: RegExp;
}

const cases: Case[] = [
  ...(['Deployment', 'StatefulSet', 'DaemonSet'] as const).map((kind): Case => ({
    name: `${kind} v1 → v2`,
    async arrange() {
      const ref = await deployedTwice(kind);
      return { ref, job: await pinned(executor, makeJob(ref)) };
    },
    expect: 'rollback',
  })),
  {
    name: 'opted out',
    async arrange() {
      const ref = await deployedTwice('Deployment', { 'rollback-controller.io/disabled': 'true' });
      return { ref, job: await pinned(executor, makeJob(ref)) };
    },
    expect: 'skip',
    reason: /opted out/,
  },
  {
    name: 'no earlier revision',
    async arrange() {
      const ref: WorkloadRef = { kind: 'Deployment', namespace: 'agree', name: `w${++n}` };
      await fake.createDeployment(ref.namespace, ref.name, { image: 'single:v1' });
      await fake.settle();
      return { ref, job: await pinned(executor, makeJob(ref)) };
    },
    expect: 'skip',
    reason: /no earlier revision/,
  },
  {
    name: 'moved on after the pin',
    async arrange() {
      const ref = await deployedTwice('Deployment');
      const job = await pinned(executor, makeJob(ref));
      await fake.setImage('Deployment', ref.namespace, ref.name, `${ref.name}:v3`);
      await fake.settle();
      return { ref, job };
    },
    expect: 'skip',
    reason: /moved on/,
  },
  {
    name: 'workload not found',
    async arrange() {
      const ref: WorkloadRef = { kind: 'Deployment', namespace: 'agree', name: 'nowhere' };
      return { ref, job: makeJob(ref) };
    },
    expect: 'skip',
    reason: /^Deployment agree\/nowhere not found$/,
  },
  {
    name: 'the API server refuses the patch',
    async arrange() {
      const ref = await deployedTwice('Deployment');
      const job = await pinned(executor, makeJob(ref));
      fake.injectFault({
        method: 'PATCH',
        path: new RegExp(`/deployments/${ref.name}$`),
        status: 403,
        times: Infinity,
      });
      return { ref, job, cleanUp: () => fake.clearFaults() };
    },
    expect: 'rejected',
    reason: /403/,
  },
];

describe('plan() and execute() agree on the same workload', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const { ref, job, cleanUp } = await c.arrange();
      let plan: Plan;
      let before: string | undefined;
      try {
        plan = await executor.plan(job);
        before = fake.list(ref.kind, ref.namespace).some((w) => w.metadata.name === ref.name)
          ? image(ref)
          : undefined;
        const { ctx, updates } = makeContext();
        const result = await executor.execute(job, ctx);

        if (c.expect === 'rollback') {
          assert.equal(plan.action, 'rollback', plan.reason);
          assert.equal(plan.serverDryRun, true);
          assert.equal(result.outcome, 'succeeded', result.reason);
          const patched = updates.find((u) => u.patched);
          assert.ok(patched, 'the patch was recorded');
          assert.deepEqual(
            [patched.fromRevision, patched.toRevision],
            [plan.fromRevision, plan.toRevision],
          );
          assert.deepEqual(patched.images, plan.changes?.images);
          assert.equal(image(ref), `${ref.name}:v1`);
        } else if (c.expect === 'skip') {
          assert.equal(plan.action, 'skip');
          assert.equal(result.outcome, 'skipped');
          assert.equal(result.reason, plan.reason);
          assert.match(plan.reason, c.reason!);
          if (before !== undefined) assert.equal(image(ref), before, 'nothing changed');
        } else {
          assert.equal(plan.action, 'rollback');
          assert.equal(plan.serverDryRun, false);
          assert.match(plan.reason, /rejected the patch in a dry run/);
          assert.equal(result.outcome, 'failed');
          assert.match(result.reason, /the API server rejected the rollback patch/);
          assert.match(plan.reason, c.reason!);
          assert.match(result.reason, c.reason!);
          assert.equal(image(ref), before, 'nothing changed');
        }
      } finally {
        cleanUp?.();
      }
    });
  }
});
