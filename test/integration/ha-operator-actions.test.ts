// Two controller processes on one Lease: an operator's approve and resume sent to the follower
// (the Service picks either pod) work, every time. The leader verifies the forward once and
// reuses the caller it names (it used to verify it twice and see the second as a replay: 401).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firing, payload } from '../support/alerts.js';
import { haFixture } from '../support/ha-fixture.js';
import { call } from '../support/ha-replicas.js';

const TEST_TIMEOUT_MS = 600_000;

describe('high availability: operator actions through the follower', () => {
  const ha = haFixture({ prefix: 'rc-ha-operator-' });

  test(
    "an operator's approve and resume through the follower work every time",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { leader, follower } = await ha.replicas.electedPair(
        'op-a',
        'op-b',
        'operator-actions',
      );
      for (let i = 0; i < 3; i++) {
        const paused = await call(follower, 'POST', 'pause', { reason: `drill ${i}` });
        assert.equal(paused.status, 200, JSON.stringify(paused.body));
        const resumed = await call(follower, 'POST', 'resume');
        assert.equal(resumed.status, 200, `resume ${i}: ${JSON.stringify(resumed.body)}`);
        assert.equal(resumed.headers.get('x-rollback-forwarded-to'), leader.name);
        assert.equal(resumed.body.paused.paused, false);
        assert.equal(resumed.body.paused.by, undefined);

        const held = await call(
          follower,
          'POST',
          'trigger',
          payload([firing('RedisConnectionFailure', `cache-${i}`)]),
        );
        assert.equal(held.status, 202);
        assert.equal(held.body.decisions[0].decision, 'awaiting_approval');
        const id = held.body.decisions[0].jobId as string;
        const approved = await call(follower, 'POST', `jobs/${id}/approve`);
        assert.equal(approved.status, 202, `approve ${i}: ${JSON.stringify(approved.body)}`);
        assert.equal(approved.headers.get('x-rollback-forwarded-to'), leader.name);
        assert.equal(approved.body.job.approval.approvedBy, 'operator', 'approved by the human');
      }
      ha.passed();
    },
  );
});
