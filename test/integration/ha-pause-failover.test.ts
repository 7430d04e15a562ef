// An operator's pause, sent to the follower of two controller processes on one Lease (fake API
// server), survives the leader's death: the new leader reads it from the controller-state
// annotation on the Lease, holds alerts, and acts once the operator resumes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firing, payload } from '../support/alerts.js';
import { haFixture } from '../support/ha-fixture.js';
import { call, HANG_GUARD_MS, readyz, templatePatches } from '../support/ha-replicas.js';
import { until } from '../support/until.js';

const NS = 'shop';
const CONTROLLER_STATE = 'rollback-controller.io/controller-state';
const TEST_TIMEOUT_MS = 600_000;

describe('high availability: a pause across a failover', () => {
  const ha = haFixture({
    prefix: 'rc-ha-pause-',
    config: ['rollout: { pollIntervalSeconds: 0.05, deadlineSeconds: 60 }'],
    fake: { rolloutStepMs: 200 },
  });
  const electedPair = (a: string, b: string, lease: string) => ha.replicas.electedPair(a, b, lease);

  test(
    "an operator's pause outlives the leader it was sent to",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const lease = () => ha.fake.get('Lease', 'rollback-system', 'pause');
      const published = () => {
        const raw = lease().metadata.annotations?.[CONTROLLER_STATE];
        return raw ? (JSON.parse(raw) as { paused: boolean; pauseReason?: string }) : undefined;
      };
      // Elected, and the follower knows where the leader is.
      const { leader, follower } = await electedPair('c', 'd', 'pause');

      // 3 a.m.: the operator's pause lands on the follower and is forwarded to the leader.
      const paused = await call(follower, 'POST', 'pause', { reason: 'night incident' });
      assert.equal(paused.status, 200);
      assert.equal(paused.headers.get('x-rollback-forwarded-to'), leader.name);
      assert.equal(paused.body.paused.paused, true);
      await until(
        () => published()?.paused === true,
        HANG_GUARD_MS,
        'the pause is published on the Lease',
      );
      assert.equal(published()?.pauseReason, 'night incident');

      leader.child.kill('SIGKILL');
      await leader.exited;
      await until(
        async () => (await readyz(follower)).leader === 'leader',
        HANG_GUARD_MS,
        'the follower takes over',
      );
      const status = (await call(follower, 'GET', 'status')).body;
      assert.equal(status.leadership.role, 'leader');
      assert.equal(status.paused.paused, true, 'the new leader is paused');
      assert.equal(status.paused.reason, 'night incident');
      const metrics = await (await fetch(`${follower.url}/metrics`)).text();
      assert.match(metrics, /^rollback_paused 1$/m);

      // An alert after a new deploy of orders: held by the pause, then acted on after resume.
      await ha.fake.createDeployment(NS, 'orders', { image: 'orders:v1' });
      await ha.fake.settle();
      await ha.fake.setImage('Deployment', NS, 'orders', 'orders:v2');
      await ha.fake.settle();
      const startsAt = new Date(Date.now() + 1000).toISOString();
      const alert = payload([firing('CriticalErrorRate', 'orders', { startsAt })]);
      const held = await call(follower, 'POST', 'trigger', alert);
      assert.equal(held.status, 202);
      assert.equal(held.body.decisions[0].decision, 'paused');

      const resumed = await call(follower, 'POST', 'resume');
      assert.equal(resumed.status, 200);
      assert.equal(resumed.body.paused.paused, false);
      await until(() => published()?.paused === false, HANG_GUARD_MS, 'the resume is published');
      const metricsAfter = await (await fetch(`${follower.url}/metrics`)).text();
      assert.match(metricsAfter, /^rollback_paused 0$/m);
      const acted = await call(follower, 'POST', 'trigger', alert);
      assert.equal(acted.body.decisions[0].decision, 'queued');
      await until(
        async () =>
          (await call(follower, 'GET', 'jobs?state=succeeded&target=orders')).body.jobs.length ===
          1,
        HANG_GUARD_MS,
        'the rollback runs on the resumed leader',
      );
      assert.equal(templatePatches(ha.fake, NS, 'orders').length, 1);
      ha.passed();
    },
  );
});
