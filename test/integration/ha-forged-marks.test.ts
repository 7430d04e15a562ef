// Two controller processes on one Lease, and an attacker who may patch workloads (not the
// controller's secrets). A pending-rollback mark is how a new leader learns of the jobs its
// predecessor left: a mark the attacker writes, or copies from another workload, must never
// become a rollback done with the controller's rights. The genuine mark is still adopted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firing, payload } from '../support/alerts.js';
import { haFixture } from '../support/ha-fixture.js';
import { call, HANG_GUARD_MS, readyz, templatePatches } from '../support/ha-replicas.js';
import { until } from '../support/until.js';

const TEST_TIMEOUT_MS = 600_000;
const NS = 'shop';
const PENDING = 'rollback-controller.io/pending-rollback';

describe('high availability: pending-rollback marks an attacker writes', () => {
  const ha = haFixture({
    prefix: 'rc-ha-marks-',
    fake: { rolloutStepMs: 100 },
    deployedTwice: { namespace: NS, names: ['api', 'web', 'orders'] },
  });

  /** What the attacker does with `patch deployments`. */
  async function writeMark(name: string, annotation: string): Promise<void> {
    const res = await fetch(`${ha.fake.url}/apis/apps/v1/namespaces/${NS}/deployments/${name}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({
        metadata: { labels: { [PENDING]: 'true' }, annotations: { [PENDING]: annotation } },
      }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  test(
    'a forged mark, or a genuine one copied to another workload, is never adopted',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { leader, follower } = await ha.replicas.electedPair('mk-a', 'mk-b', 'marks');
      // A genuine job on api, still rolling out when its leader dies.
      ha.fake.stickRollouts('Deployment', NS, 'api', true);
      const startsAt = new Date(Date.now() + 1000).toISOString();
      const accepted = await call(
        follower,
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'api', { startsAt })]),
      );
      assert.equal(accepted.body.decisions[0].decision, 'queued');
      const genuineId = accepted.body.decisions[0].jobId as string;
      await until(
        () =>
          templatePatches(ha.fake, NS, 'api').length === 1 &&
          ha.fake.get('Deployment', NS, 'api').metadata.annotations?.[PENDING] !== undefined,
        HANG_GUARD_MS,
        'the api rollback is applied and its job marked',
      );
      const genuine = ha.fake.get('Deployment', NS, 'api').metadata.annotations[PENDING] as string;

      // The attacker: the genuine mark copied onto web; a mark of their own making on orders.
      await writeMark('web', genuine);
      await writeMark(
        'orders',
        JSON.stringify({
          jobId: 'forged-1',
          alertname: 'CriticalErrorRate',
          fingerprint: 'f0f0f0f0',
          startsAt,
          labels: {
            alertname: 'CriticalErrorRate',
            severity: 'critical',
            namespace: NS,
            deployment: 'orders',
          },
          rule: 'CriticalErrorRate',
          trigger: 'error_rate_threshold',
          confidence: 'high',
          fromRevision: 2,
          createdAt: new Date().toISOString(),
          acceptedBy: leader.name,
        }),
      );

      leader.child.kill('SIGKILL');
      await leader.exited;
      ha.fake.stickRollouts('Deployment', NS, 'api', false);
      await until(
        async () => (await readyz(follower)).leader === 'leader',
        HANG_GUARD_MS,
        'the follower takes over',
      );
      await until(
        async () => (await call(follower, 'GET', `jobs/${genuineId}`)).body.state === 'succeeded',
        HANG_GUARD_MS,
        'the genuine job is adopted and finishes',
      );
      const jobs = (await call(follower, 'GET', 'jobs')).body.jobs as Array<{ id: string }>;
      assert.deepEqual(
        jobs.map((j) => j.id),
        [genuineId],
        'only the genuine job was adopted',
      );
      assert.equal(templatePatches(ha.fake, NS, 'web').length, 0, 'web was never rolled back');
      assert.equal(
        templatePatches(ha.fake, NS, 'orders').length,
        0,
        'orders was never rolled back',
      );
      assert.equal(
        ha.fake.get('Deployment', NS, 'orders').spec.template.spec.containers[0].image,
        'orders:v2',
      );
      const log = follower.output.join('');
      assert.match(log, /not signed with the replicas’ key.*not adopted/);
      assert.match(log, /does not match it and this workload.*not adopted/);
      ha.passed();
    },
  );
});
