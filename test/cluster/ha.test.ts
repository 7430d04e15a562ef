// High availability on the real control plane: two controller processes elect a leader on a
// real Lease; the leader is SIGKILLed mid-queue (one rollback rolling out, two queued); the
// follower takes the Lease over and finishes: every workload is rolled back exactly once,
// counted in the API server's audit log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alert, payload } from '../support/alerts.js';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { until } from '../support/until.js';
import {
  alertFor,
  controllerIdentity,
  controllerPod,
  deployedTwice,
  haEnv,
  imageOf,
  startController,
  type RunningController,
} from './support.js';

const NS = 'ha';
const NAMES = ['api', 'web', 'cart'];
let cluster: KubeCluster;
let user: string;
let kubeconfig: string;
const replicas: RunningController[] = [];

before(async () => {
  // Pods take 1.5 s to become Ready: a rollback takes a few seconds, long enough to kill mid-way.
  cluster = await startKubeCluster({ readyDelayMs: 1500 });
  await cluster.createNamespace(NS);
  await Promise.all(NAMES.map((n) => deployedTwice(cluster, 'Deployment', NS, n, { replicas: 2 })));
  ({ user, kubeconfig } = await controllerIdentity(cluster, 'rc-ha'));
});
after(async () => {
  for (const r of replicas) await r.close();
  await cluster?.stop();
});

async function replica(name: string): Promise<RunningController> {
  await controllerPod(cluster, name);
  const r = await startController({ kubeconfig, env: haEnv(name) });
  replicas.push(r);
  return r;
}

async function role(r: RunningController): Promise<string> {
  const res = await fetch(`${r.url}/readyz`);
  return ((await res.json()) as { checks: { leader: string } }).checks.leader;
}

/** A replica's log without the request lines of the test's own polling. */
function story(r: RunningController): string {
  return r
    .output()
    .split('\n')
    .filter((l) => !l.includes('"msg":"request"'))
    .join('\n')
    .slice(-12000);
}

describe('HA on a real Lease', () => {
  test('SIGKILL the leader mid-queue: every workload rolled back exactly once', async () => {
    const [a, b] = await Promise.all([replica('rc-a'), replica('rc-b')]);
    let leader: RunningController | undefined;
    await until(
      async () => {
        for (const r of [a, b]) if ((await role(r)) === 'leader') leader = r;
        return leader !== undefined;
      },
      60_000,
      'a leader is elected on the Lease',
    );
    const follower = leader === a ? b : a;
    const lease = await cluster.http.ok(
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/rollback-system/leases/rollback-controller',
    );
    assert.equal(lease.spec.holderIdentity, leader === a ? 'rc-a' : 'rc-b');
    // Readiness is terse; the follower's /status is answered by the leader it forwards to.
    await until(
      async () =>
        (await role(follower)) === 'follower' &&
        (await follower.call('GET', 'status')).body?.leadership?.role === 'leader',
      30_000,
      'the follower knows the leader',
    );

    const startsAt = new Date(Date.now() + 1000).toISOString();
    const alerts = payload(
      NAMES.map((n) =>
        alert({
          alertname: 'CriticalErrorRate',
          startsAt,
          labels: { namespace: NS, deployment: n },
        }),
      ),
    );
    const accepted = await follower.call('POST', 'trigger', alerts);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const decisions = accepted.body.decisions as Array<{ decision: string; jobId: string }>;
    assert.deepEqual(
      decisions.map((d) => d.decision),
      ['queued', 'queued', 'queued'],
    );

    const writes = (name: string) => cluster.audit.templateWrites({ user, namespace: NS, name });
    await until(
      () => NAMES.some((n) => writes(n).length > 0),
      60_000,
      'the first rollback is patched',
    );
    await leader!.kill9();
    const patchedBeforeKill = NAMES.filter((n) => writes(n).length > 0);
    assert.ok(patchedBeforeKill.length < NAMES.length, 'killed before the queue was done');

    await until(async () => (await role(follower)) === 'leader', 60_000, 'the follower takes over');
    // A rollback the old leader patched may also have finished there before the kill (its
    // pending mark then cleared): the new leader owns every other one, adopted or not yet begun.
    const key = (n: string) => `Deployment/${NS}/${n}`;
    const mustAdopt = NAMES.filter((n) => !patchedBeforeKill.includes(n)).map(key);
    let jobs: any[] = [];
    await until(
      async () => {
        jobs = (await follower.call('GET', 'jobs')).body.jobs as any[];
        const known = new Set(jobs.map((j) => j.targetKey));
        return (
          mustAdopt.every((k) => known.has(k)) &&
          jobs.every((j) => ['succeeded', 'failed', 'skipped'].includes(j.state))
        );
      },
      180_000,
      'every job finished on the new leader',
    ).catch((e: Error) => {
      const states = jobs.map((j) => `${j.targetKey} ${j.state} ${j.reason ?? ''}`).join('\n');
      throw new Error(
        `${e.message}\n${states}\n${story(follower)}\n--- old leader\n${story(leader!)}`,
      );
    });
    assert.deepEqual(
      jobs.map((j) => `${j.targetKey} ${j.state}`).sort(),
      jobs.map((j) => `${j.targetKey} succeeded`).sort(),
      `${jobs.map((j) => j.reason).join('\n')}\n${story(follower)}`,
    );
    // Every workload was rolled back by one of the two, under one of the accepted jobs.
    const acceptedJobs = new Set(decisions.map((d) => d.jobId));
    for (const name of NAMES) {
      const d = await cluster.waitRolledOut('Deployment', NS, name);
      assert.equal(imageOf(d), `${name}:v1`, `${name} is back on v1`);
      assert.equal(writes(name).length, 1, `${name}: exactly one template PATCH in the audit log`);
      const last = JSON.parse(d.metadata.annotations['rollback-controller.io/last-rollback']);
      assert.ok(acceptedJobs.has(last.jobId), `${name} was rolled back by an accepted job`);
    }
    assert.deepEqual(cluster.audit.denied({ user }), []);
  });

  test("a Deployment's generation moved by the job's own pending mark is waited for, never taken for a deploy in flux", async () => {
    // The replica left leading by the test above (a killed one answers nothing).
    let leader: RunningController | undefined;
    for (const r of replicas) if ((await role(r).catch(() => '')) === 'leader') leader = r;
    assert.ok(leader, 'a replica leads');
    const name = 'orders';
    await deployedTwice(cluster, 'Deployment', NS, name);
    // The deployment controller is frozen (a busy or restarting controller-manager): the mark's
    // annotation raises the Deployment's generation and nobody observes it until the thaw.
    const thaw = cluster.freezeControllerManager();
    let jobId: string;
    try {
      const accepted = await leader.call('POST', 'trigger', alertFor('Deployment', NS, name));
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.equal(accepted.body.decisions[0].decision, 'queued');
      jobId = accepted.body.decisions[0].jobId as string;
      const marked = await cluster.waitFor(
        'Deployment',
        NS,
        name,
        (d) => d.metadata.annotations?.['rollback-controller.io/pending-rollback'] !== undefined,
      );
      assert.ok(marked.metadata.generation > marked.status.observedGeneration, 'not observed');
      const job = (await leader.call('GET', `jobs/${jobId}`)).body;
      assert.ok(['queued', 'running'].includes(job.state), `still to act: ${JSON.stringify(job)}`);
    } finally {
      thaw();
    }
    let job: any;
    await until(
      async () => {
        job = (await leader.call('GET', `jobs/${jobId}`)).body;
        return ['succeeded', 'failed', 'skipped'].includes(job.state);
      },
      180_000,
      'the job ends',
    );
    assert.equal(job.state, 'succeeded', `${job.reason}\n${story(leader)}`);
    const d = await cluster.waitRolledOut('Deployment', NS, name);
    assert.equal(imageOf(d), `${name}:v1`);
  });
});
