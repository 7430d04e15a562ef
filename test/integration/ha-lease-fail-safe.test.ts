// An attacker who may write Leases waits until no replica runs (a node drain, an upgrade), then
// replaces the controller state with an unsigned "all clear". A replica that never saw the old
// state takes over a Lease that had leaders but carries no state it can verify: it starts
// paused, and says why, rather than trusting the Lease or forgetting an operator's pause.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { haFixture } from '../support/ha-fixture.js';
import {
  decides,
  editLease,
  HANG_GUARD_MS,
  pauseState,
  publishedState,
  readyz,
} from '../support/ha-replicas.js';
import { until } from '../support/until.js';

const TEST_TIMEOUT_MS = 600_000;
const STATE = 'rollback-controller.io/controller-state';

describe('high availability: no verifiable state on a Lease that had leaders', () => {
  const ha = haFixture({ prefix: 'rc-ha-fail-safe-' });

  test(
    'a replica that never followed takes over such a Lease paused, and says why',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const lease = 'no-state';
      const { leader, follower } = await ha.replicas.electedPair('ns-a', 'ns-b', lease);
      await until(() => publishedState(ha.fake, lease) !== undefined, HANG_GUARD_MS, 'a state');
      for (const r of [leader, follower]) r.child.kill('SIGKILL');
      await Promise.all([leader.exited, follower.exited]);
      // Free for anyone, the state replaced by an unsigned "all clear".
      await editLease(ha.fake, lease, (l) => {
        l.spec.holderIdentity = '';
        l.metadata.annotations[STATE] = JSON.stringify({
          paused: false,
          circuitOpen: false,
          updatedAt: new Date().toISOString(),
        });
      });
      const fresh = await ha.replicas.start('ns-c', lease);
      await until(
        async () => (await readyz(fresh)).leader === 'leader',
        HANG_GUARD_MS,
        `${fresh.name} leads`,
      );
      const s = await pauseState(fresh);
      assert.equal(s.paused, true);
      assert.match(
        String(s.reason),
        /the Lease had a leader before but carries a controller state not signed/,
      );
      assert.match(String(s.reason), /POST \/resume/);
      assert.equal(await decides(fresh, 'cart'), 'paused');
      ha.passed();
    },
  );
});
