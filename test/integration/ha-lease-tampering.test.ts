// Two controller processes on one Lease, and an attacker who may write Leases (and workloads) in
// the namespace but holds none of the secrets. Whatever they write, an operator's pause survives:
// handing the Lease to the replica that never saw the pause and deleting the state, or writing
// back an older signed copy, changes nothing. (ha-lease-fail-safe.test.ts: a replica that never
// followed.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { haFixture } from '../support/ha-fixture.js';
import {
  call,
  decides,
  editLease,
  HANG_GUARD_MS,
  pauseState,
  publishedState,
  readyz,
  type Replica,
} from '../support/ha-replicas.js';
import { until } from '../support/until.js';

const TEST_TIMEOUT_MS = 600_000;
const NS = 'shop';
const STATE = 'rollback-controller.io/controller-state';

describe('high availability: the kill switch survives any Lease edit', () => {
  const ha = haFixture({
    prefix: 'rc-ha-lease-',
    deployedTwice: { namespace: NS, names: ['api', 'web', 'cart'] },
  });

  const published = (name: string) => publishedState(ha.fake, name);

  /** A follower logs each newer signed state it verifies on the Lease. */
  const sawPause = (r: Replica) =>
    r.output
      .join('')
      .split('\n')
      .some((l) => l.includes('verified the controller state') && l.includes('"paused":true'));

  test(
    'deleting the state, or writing back an older signed copy, never lifts a pause',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const lease = 'kill-switch';
      const { leader, follower } = await ha.replicas.electedPair('ks-a', 'ks-b', lease);
      await until(() => published(lease) !== undefined, HANG_GUARD_MS, 'a state is published');
      const unpausedCopy = published(lease);
      assert.equal(JSON.parse(String(unpausedCopy)).paused, false);

      const paused = await call(follower, 'POST', 'pause', { reason: 'incident 42' });
      assert.equal(paused.status, 200);
      await until(
        () => JSON.parse(published(lease) ?? '{}').paused === true,
        HANG_GUARD_MS,
        'the pause is published',
      );
      await until(() => sawPause(follower), HANG_GUARD_MS, 'the follower verified the pause');

      // Hand the Lease to the replica that never saw the pause itself, without the state.
      await editLease(ha.fake, lease, (l) => {
        l.spec.holderIdentity = follower.name;
        delete l.metadata.annotations[STATE];
      });
      await until(
        async () => (await readyz(follower)).leader === 'leader',
        HANG_GUARD_MS,
        `${follower.name} leads`,
      );
      assert.equal((await pauseState(follower)).paused, true, 'still paused');
      assert.equal((await pauseState(follower)).reason, 'incident 42');
      assert.equal(await decides(follower, 'api'), 'paused');

      // Now back to the first replica, with the older (unpaused) signed copy on the Lease.
      await until(
        async () => (await readyz(leader)).leader === 'follower',
        HANG_GUARD_MS,
        `${leader.name} follows`,
      );
      await until(
        () => JSON.parse(published(lease) ?? '{}').paused === true,
        HANG_GUARD_MS,
        'the new leader publishes the pause',
      );
      await until(() => sawPause(leader), HANG_GUARD_MS, 'the old leader verified the pause');
      await editLease(ha.fake, lease, (l) => {
        l.spec.holderIdentity = leader.name;
        l.metadata.annotations[STATE] = unpausedCopy;
      });
      await until(
        async () => (await readyz(leader)).leader === 'leader',
        HANG_GUARD_MS,
        `${leader.name} leads again`,
      );
      assert.equal((await pauseState(leader)).paused, true, 'still paused');
      assert.equal(await decides(leader, 'web'), 'paused');
      ha.passed();
    },
  );
});
