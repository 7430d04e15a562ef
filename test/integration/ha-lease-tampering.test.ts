// Two controller processes on one Lease, and an attacker who may write Leases (and workloads) in
// the namespace but holds none of the secrets. Whatever they write, an operator's pause survives:
// handing the Lease to the replica that never saw the pause and deleting the state, or writing
// back an older signed copy, changes nothing; a replica that never followed takes over a Lease
// with no state it can verify paused, saying why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import {
  call,
  HANG_GUARD_MS,
  readyz,
  replicaSet,
  type Replica,
  type ReplicaSet,
} from '../support/ha-replicas.js';
import { until } from '../support/until.js';

const TEST_TIMEOUT_MS = 600_000;
const NS = 'shop';
const STATE = 'rollback-controller.io/controller-state';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/rollback-system/leases';

describe('high availability: the kill switch survives any Lease edit', () => {
  let fake: FakeKube;
  let dir: string;
  let replicas: ReplicaSet;
  let passed = 0;

  /** What the attacker does with `update leases`: read, change, write back. */
  async function editLease(name: string, edit: (lease: any) => void): Promise<void> {
    await until(
      async () => {
        const lease = structuredClone(fake.get('Lease', 'rollback-system', name));
        edit(lease);
        const res = await fetch(`${fake.url}${LEASES}/${name}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(lease),
        });
        // 409: the leader renewed in between; read again and retry.
        return res.status === 200;
      },
      HANG_GUARD_MS,
      `the Lease ${name} is rewritten`,
    );
  }

  const published = (name: string) =>
    fake.get('Lease', 'rollback-system', name).metadata.annotations?.[STATE] as string | undefined;

  /** A follower logs each newer signed state it verifies on the Lease. */
  const sawPause = (r: Replica) =>
    r.output
      .join('')
      .split('\n')
      .some((l) => l.includes('verified the controller state') && l.includes('"paused":true'));

  const state = async (r: Replica) => (await call(r, 'GET', 'status')).body.paused;

  /** What the replica decides for a fresh alert on a workload with a revision to go back to. */
  async function decides(r: Replica, name: string): Promise<string> {
    const startsAt = new Date(Date.now() + 1000).toISOString();
    const res = await call(
      r,
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', name, { startsAt })]),
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.decisions[0].decision as string;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-ha-lease-'));
    writeFileSync(join(dir, 'config.yaml'), 'rollout: { pollIntervalSeconds: 0.05 }\n');
    fake = await startFakeKube();
    for (const name of ['api', 'web', 'cart']) {
      await fake.createDeployment(NS, name, { image: `${name}:v1` });
      await fake.settle();
      await fake.setImage('Deployment', NS, name, `${name}:v2`);
    }
    await fake.settle();
    replicas = replicaSet(fake, dir);
  });

  after(async () => {
    if (passed < 2)
      for (const r of replicas.all) console.error(`--- replica ${r.name}\n${r.output.join('')}`);
    await replicas.killAll();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    'deleting the state, or writing back an older signed copy, never lifts a pause',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const lease = 'kill-switch';
      const { leader, follower } = await replicas.electedPair('ks-a', 'ks-b', lease);
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
      await editLease(lease, (l) => {
        l.spec.holderIdentity = follower.name;
        delete l.metadata.annotations[STATE];
      });
      await until(
        async () => (await readyz(follower)).leader === 'leader',
        HANG_GUARD_MS,
        `${follower.name} leads`,
      );
      assert.equal((await state(follower)).paused, true, 'still paused');
      assert.equal((await state(follower)).reason, 'incident 42');
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
      await editLease(lease, (l) => {
        l.spec.holderIdentity = leader.name;
        l.metadata.annotations[STATE] = unpausedCopy;
      });
      await until(
        async () => (await readyz(leader)).leader === 'leader',
        HANG_GUARD_MS,
        `${leader.name} leads again`,
      );
      assert.equal((await state(leader)).paused, true, 'still paused');
      assert.equal(await decides(leader, 'web'), 'paused');
      passed++;
    },
  );

  test(
    'a replica that never followed takes over a Lease without a valid state paused, and says why',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const lease = 'no-state';
      const { leader, follower } = await replicas.electedPair('ns-a', 'ns-b', lease);
      await until(() => published(lease) !== undefined, HANG_GUARD_MS, 'a state is published');
      for (const r of [leader, follower]) r.child.kill('SIGKILL');
      await Promise.all([leader.exited, follower.exited]);
      // Free for anyone, the state replaced by an unsigned "all clear".
      await editLease(lease, (l) => {
        l.spec.holderIdentity = '';
        l.metadata.annotations[STATE] = JSON.stringify({
          paused: false,
          circuitOpen: false,
          updatedAt: new Date().toISOString(),
        });
      });
      const fresh = await replicas.start('ns-c', lease);
      await until(
        async () => (await readyz(fresh)).leader === 'leader',
        HANG_GUARD_MS,
        `${fresh.name} leads`,
      );
      const s = await state(fresh);
      assert.equal(s.paused, true);
      assert.match(
        s.reason,
        /the Lease had a leader before but carries a controller state not signed/,
      );
      assert.match(s.reason, /POST \/resume/);
      assert.equal(await decides(fresh, 'cart'), 'paused');
      passed++;
    },
  );
});
