// Two controller processes against one fake API server with leader election on: both are Ready,
// the follower forwards the alerts it receives to the leader (the URL on the Lease), and only the
// leader decides and acts; when it is SIGKILLed mid-queue the follower takes over the Lease,
// adopts the pending jobs from the workloads' marks, and finishes them: nothing lost, nothing
// doubled. (ha-pause-failover.test.ts: an operator's pause survives the leader's death.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firing, payload } from '../support/alerts.js';
import { haFixture } from '../support/ha-fixture.js';
import {
  call,
  HANG_GUARD_MS,
  readyz,
  templatePatches,
  type Replica,
} from '../support/ha-replicas.js';
import { until } from '../support/until.js';

const NS = 'shop';
const NAMES = ['api', 'web', 'cart'];
const PENDING = 'rollback-controller.io/pending-rollback';
const LAST = 'rollback-controller.io/last-rollback';
const LEADER_URL = 'rollback-controller.io/leader-url';
const TEST_TIMEOUT_MS = 600_000;

/** Ids of the jobs in a replica's own journal (what it decided itself), each once: a job has a
 * record per state change, and how many it has by now depends on how far the queue got. */
function journaledJobs(dir: string, r: Replica): string[] {
  const ids = readFileSync(join(dir, `data-${r.name}`, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { t: string; job?: { id: string } })
    .filter((rec) => rec.t === 'job')
    .map((rec) => rec.job?.id ?? '');
  return [...new Set(ids)];
}

/** `kubectl rollout status` would say done. */
function rolledOut(d: any): boolean {
  const s = d.status ?? {};
  return (
    s.observedGeneration >= d.metadata.generation &&
    s.updatedReplicas === d.spec.replicas &&
    s.replicas === s.updatedReplicas &&
    s.availableReplicas === s.updatedReplicas
  );
}

describe('high availability: two processes, one Lease', () => {
  const ha = haFixture({
    prefix: 'rc-ha-',
    config: [
      'rollout: { pollIntervalSeconds: 0.05, deadlineSeconds: 60 }',
      'policy: { circuitBreaker: { maxRollbacks: 10, windowSeconds: 600 } }',
    ],
    // Each rollout step takes 200 ms: a rollback takes about a second to finish.
    fake: { rolloutStepMs: 200 },
    deployedTwice: { namespace: NS, names: NAMES },
  });
  /** Each test elects on its own Lease, so one test's leftover leader cannot hold up the next. */
  const electedPair = (a: string, b: string, lease: string) => ha.replicas.electedPair(a, b, lease);

  test(
    'the leader is killed mid-queue; the follower adopts and finishes every job once',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { leader, follower } = await electedPair('a', 'b', 'failover');
      const lease = ha.fake.get('Lease', 'rollback-system', 'failover');
      assert.equal(lease.spec.holderIdentity, leader.name);
      assert.equal(
        lease.metadata.annotations?.[LEADER_URL],
        leader.url,
        'the leader publishes its URL',
      );

      // Both replicas are Ready (rollouts and PodDisruptionBudgets work); the follower forwards.
      await until(
        async () =>
          (await readyz(follower)).leader === 'follower' &&
          (await call(follower, 'GET', 'status')).headers.get('x-rollback-forwarded-to') ===
            leader.name,
        HANG_GUARD_MS,
        'the follower knows where the leader is',
      );
      assert.equal((await readyz(follower)).status, 200);
      assert.equal((await readyz(leader)).status, 200);

      // The rollouts the rollbacks start hold until the test lets them go, so the first job is
      // still following its rollout, and the others still queued, whenever the leader dies.
      for (const name of NAMES) ha.fake.stickRollouts('Deployment', NS, name, true);

      // Alertmanager reaches the follower through the Service; the leader decides.
      // The alerts started after the v2 deploys (a revision newer than its alert is not undone).
      const startsAt = new Date(Date.now() + 1000).toISOString();
      const alerts = payload(NAMES.map((n) => firing('CriticalErrorRate', n, { startsAt })));
      const accepted = await call(follower, 'POST', 'trigger', alerts);
      assert.equal(accepted.status, 202);
      assert.equal(accepted.headers.get('x-rollback-forwarded-to'), leader.name);
      const decisions = accepted.body.decisions as Array<{ decision: string; jobId: string }>;
      assert.deepEqual(
        decisions.map((d) => d.decision),
        ['queued', 'queued', 'queued'],
      );
      const forwardedJobs = (await call(follower, 'GET', 'jobs')).body.jobs as Array<{
        id: string;
      }>;
      assert.deepEqual(
        forwardedJobs.map((j) => j.id).sort(),
        decisions.map((d) => d.jobId).sort(),
        "the follower's /jobs is the leader's",
      );
      assert.deepEqual(journaledJobs(ha.dir, follower), [], 'the follower decided nothing itself');
      assert.deepEqual(journaledJobs(ha.dir, leader).sort(), decisions.map((d) => d.jobId).sort());

      // Kill the leader once the first rollback is applied and rolling out, the others queued.
      await until(
        () =>
          NAMES.some((n) => templatePatches(ha.fake, NS, n).length > 0) &&
          NAMES.every(
            (n) => ha.fake.get('Deployment', NS, n).metadata.labels?.[PENDING] === 'true',
          ),
        HANG_GUARD_MS,
        'first rollback patched and every job marked on its workload',
      );
      // The Lease refuses writes until the test has seen the follower's answer in between, so the
      // follower cannot take over early however slowly this machine runs.
      ha.fake.injectFault({
        method: 'PUT',
        path: /\/leases\/failover$/,
        status: 500,
        times: Infinity,
      });
      leader.child.kill('SIGKILL');
      await leader.exited;
      // Until it holds the Lease the follower still forwards to the dead leader: a 503 that
      // Alertmanager retries, never a local decision.
      const meanwhile = await call(follower, 'POST', 'trigger', alerts);
      assert.equal(meanwhile.status, 503);
      assert.match(meanwhile.body.error, /could not reach the leader .*; retry/);
      const patchedBeforeKill = NAMES.filter((n) => templatePatches(ha.fake, NS, n).length > 0);
      assert.equal(patchedBeforeKill.length, 1, 'the other two jobs were still queued');
      const first = patchedBeforeKill[0];
      assert.equal(
        rolledOut(ha.fake.get('Deployment', NS, String(first))),
        false,
        'killed mid-rollout',
      );
      ha.fake.clearFaults();
      for (const name of NAMES) ha.fake.stickRollouts('Deployment', NS, name, false);

      await until(
        async () => (await readyz(follower)).leader === 'leader',
        HANG_GUARD_MS,
        'the follower takes over',
      );
      assert.equal(
        ha.fake.get('Lease', 'rollback-system', 'failover').metadata.annotations?.[LEADER_URL],
        follower.url,
      );
      assert.equal(
        ha.fake.get('Lease', 'rollback-system', 'failover').spec.holderIdentity,
        follower.name,
      );
      await until(
        async () =>
          (await call(follower, 'GET', 'jobs?state=succeeded')).body.jobs.length === NAMES.length,
        HANG_GUARD_MS,
        'every job succeeds on the new leader',
      );

      const jobs = (await call(follower, 'GET', 'jobs')).body.jobs as Array<{
        id: string;
        targetKey: string;
        fromRevision: number;
        timeline: Array<{ event: string }>;
      }>;
      assert.deepEqual(
        jobs.map((j) => j.id).sort(),
        decisions.map((d) => d.jobId).sort(),
        'the same jobs, under the ids the dead leader answered with',
      );
      for (const job of jobs) {
        assert.ok(
          job.timeline.some((t) => t.event === 'adopted'),
          `${job.id} was adopted`,
        );
        assert.equal(job.fromRevision, 2, 'the pinned revision came along');
      }
      for (const name of NAMES) {
        const d = ha.fake.get('Deployment', NS, name);
        assert.equal(d.spec.template.spec.containers[0].image, `${name}:v1`, `${name} is on v1`);
        assert.equal(
          templatePatches(ha.fake, NS, name).length,
          1,
          `${name} was rolled back exactly once`,
        );
        assert.equal(d.metadata.labels?.[PENDING], undefined, `${name}: pending label cleared`);
        assert.equal(d.metadata.annotations?.[PENDING], undefined, `${name}: intent cleared`);
        const last = JSON.parse(d.metadata.annotations[LAST]);
        assert.ok(decisions.some((x) => x.jobId === last.jobId));
      }
      const status = (await call(follower, 'GET', 'status')).body;
      assert.equal(status.leadership.role, 'leader');
      assert.equal(status.leadership.adoptedJobs, 3);

      // Alertmanager re-sends the same alerts to the new leader: nothing is rolled back again.
      const again = await call(follower, 'POST', 'trigger', alerts);
      assert.equal(again.status, 202);
      assert.deepEqual(
        again.body.decisions.map((d: { decision: string }) => d.decision),
        ['duplicate', 'duplicate', 'duplicate'],
      );

      // SIGTERM: a clean stop hands the Lease back instead of letting it expire.
      follower.child.kill('SIGTERM');
      assert.equal(await follower.exited, 0);
      const released = ha.fake.get('Lease', 'rollback-system', 'failover');
      assert.equal(released.spec.holderIdentity, '');
      assert.equal(released.metadata.annotations?.[LEADER_URL], undefined, 'no URL to forward to');
      for (const name of NAMES) assert.equal(templatePatches(ha.fake, NS, name).length, 1);
      ha.passed();
    },
  );
});
