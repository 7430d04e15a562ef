import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TransientError } from '../../src/executors/kubernetes/kube-errors.js';
import { LeaseElector, type Leadership } from '../../src/ha/lease-elector.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from '../../src/ha/lease-store.js';

/** A Lease in memory with the API server's optimistic concurrency. */
class MemoryLeaseStore implements LeaseStore {
  readonly describe = 'ns/rollback-controller';
  record: LeaseRecord | undefined;
  failure: Error | undefined;
  timeouts: number[] = [];
  /** Runs once right before the next write lands (a competing writer). */
  beforeWrite: (() => void) | undefined;
  private rv = 0;

  async get(timeoutMs: number): Promise<LeaseRecord | undefined> {
    this.timeouts.push(timeoutMs);
    if (this.failure) throw this.failure;
    return this.record ? { ...this.record } : undefined;
  }
  async create(r: LeaseRecord): Promise<LeaseRecord> {
    this.interleave();
    if (this.record) throw new LeaseConflictError('leases "rollback-controller" already exists');
    return this.write(r);
  }
  async replace(r: LeaseRecord): Promise<LeaseRecord> {
    this.interleave();
    if (!this.record || r.resourceVersion !== this.record.resourceVersion)
      throw new LeaseConflictError('the object has been modified');
    return this.write(r);
  }
  /** Another candidate writes the Lease directly. */
  force(r: Partial<LeaseRecord>): void {
    this.write({ ...(this.record as LeaseRecord), ...r });
  }
  private interleave(): void {
    const f = this.beforeWrite;
    this.beforeWrite = undefined;
    f?.();
  }
  private write(r: LeaseRecord): LeaseRecord {
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return { ...this.record };
  }
}

function setup(store = new MemoryLeaseStore()) {
  const clock = { t: Date.parse('2026-11-22T10:00:00.000Z') };
  const start = clock.t;
  const at = (seconds: number) => (clock.t = start + seconds * 1000);
  const elector = (identity: string, advertiseUrl?: string) => {
    const e = new LeaseElector({
      store,
      identity,
      now: () => clock.t,
      ...(advertiseUrl ? { advertiseUrl } : {}),
    });
    const changes: Leadership[] = [];
    e.onChange((l) => changes.push(l));
    return { e, changes };
  };
  return { store, at, elector };
}

describe('LeaseElector', () => {
  test('acquires a missing Lease, then renews it keeping acquireTime', async () => {
    const { store, at, elector } = setup();
    const a = elector('a');
    assert.deepEqual(await a.e.tick(), { leading: true, holder: 'a' });
    assert.deepEqual(a.changes, [{ leading: true, holder: 'a' }]);
    const first = store.record as LeaseRecord;
    assert.equal(first.holderIdentity, 'a');
    assert.equal(first.leaseDurationSeconds, 15);
    assert.equal(first.leaseTransitions, 0);
    assert.equal(first.acquireTime, '2026-11-22T10:00:00.000000Z', 'MicroTime');
    assert.equal(first.renewTime, first.acquireTime);

    at(2);
    assert.equal((await a.e.tick()).leading, true);
    const renewed = store.record as LeaseRecord;
    assert.equal(renewed.renewTime, '2026-11-22T10:00:02.000000Z');
    assert.equal(renewed.acquireTime, first.acquireTime);
    assert.equal(renewed.leaseTransitions, 0);
    assert.notEqual(renewed.resourceVersion, first.resourceVersion);
    assert.equal(a.changes.length, 1, 'a renewal is not a change');
  });

  test('a second candidate follows and knows who leads', async () => {
    const { at, elector } = setup();
    const a = elector('a');
    const b = elector('b');
    await a.e.tick();
    at(1);
    assert.deepEqual(await b.e.tick(), { leading: false, holder: 'a' });
    assert.deepEqual(b.changes, [{ leading: false, holder: 'a' }]);
    at(2);
    await a.e.tick();
    at(3);
    assert.equal((await b.e.tick()).leading, false, 'a renews, b keeps following');
  });

  test('losing the write race (409 on a stale resourceVersion) does not make a leader', async () => {
    const { store, at, elector } = setup();
    const a = elector('a');
    store.record = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      leaseTransitions: 3,
      resourceVersion: '7',
    };
    // b writes first, between a's read and a's write.
    store.beforeWrite = () => store.force({ holderIdentity: 'b', renewTime: 'now' });
    assert.deepEqual(await a.e.tick(), { leading: false });
    assert.equal(store.record?.holderIdentity, 'b');
    at(1);
    assert.deepEqual(await a.e.tick(), { leading: false, holder: 'b' });
    assert.equal(
      a.changes.some((c) => c.leading),
      false,
      'a never led',
    );
  });

  test('a leader whose Lease was taken over stands down at once', async () => {
    const { store, at, elector } = setup();
    const a = elector('a');
    await a.e.tick();
    at(2);
    store.force({ holderIdentity: 'b', leaseTransitions: 1 });
    assert.deepEqual(await a.e.tick(), { leading: false, holder: 'b' });
    assert.deepEqual(a.changes.at(-1), { leading: false, holder: 'b' });
  });

  test('an expired Lease is taken over, measured from when the follower saw it change', async () => {
    const { store, at, elector } = setup();
    const a = elector('a');
    const b = elector('b');
    await a.e.tick(); // a's last renewal: t=0, then a dies
    at(10);
    await b.e.tick(); // b first sees the Lease at t=10: its own clock starts there
    at(16);
    assert.equal((await b.e.tick()).leading, false, 'not 15 s since b saw it change');
    at(24.9);
    assert.equal((await b.e.tick()).leading, false);
    at(25.1);
    assert.deepEqual(await b.e.tick(), { leading: true, holder: 'b' });
    const taken = store.record as LeaseRecord;
    assert.equal(taken.holderIdentity, 'b');
    assert.equal(taken.leaseTransitions, 1);
    assert.equal(taken.acquireTime, '2026-11-22T10:00:25.100000Z');
  });

  test('a leader that cannot renew stands down at the renew deadline, before the Lease expires', async () => {
    const { store, at, elector } = setup();
    const a = elector('a');
    await a.e.tick();
    store.failure = new TransientError('GET Lease: 503 etcdserver: request timed out', 503);
    for (const s of [2, 4, 6, 8]) {
      at(s);
      assert.equal((await a.e.tick()).leading, true, `still leading at ${s}s`);
    }
    assert.equal(store.timeouts.at(-1), 2000, 'the last call may not outlive the deadline');
    at(10);
    assert.deepEqual(await a.e.tick(), { leading: false });
    assert.deepEqual(a.changes, [{ leading: true, holder: 'a' }, { leading: false }]);
    assert.ok(a.e.renewDeadlineMs < a.e.leaseDurationMs);
    store.failure = undefined;
    at(11);
    assert.equal((await a.e.tick()).leading, true, 'the Lease still names a: it renews again');
  });

  test('stop({ release }) hands the Lease back so a follower takes over at once', async () => {
    const { store, at, elector } = setup();
    const a = elector('a');
    const b = elector('b');
    await a.e.tick();
    at(1);
    await b.e.tick();
    await a.e.stop({ release: true });
    assert.equal(store.record?.holderIdentity, '');
    assert.equal(a.e.leading, false);
    at(2);
    assert.deepEqual(await b.e.tick(), { leading: true, holder: 'b' });
  });

  test('the leader publishes its URL on acquire and renew; followers learn it; release clears it', async () => {
    const { store, at, elector } = setup();
    const a = elector('a', 'http://10.0.0.1:8080');
    const b = elector('b', 'http://10.0.0.2:8080');
    assert.deepEqual(await a.e.tick(), {
      leading: true,
      holder: 'a',
      holderUrl: 'http://10.0.0.1:8080',
    });
    assert.equal(store.record?.leaderUrl, 'http://10.0.0.1:8080');
    at(1);
    assert.deepEqual(await b.e.tick(), {
      leading: false,
      holder: 'a',
      holderUrl: 'http://10.0.0.1:8080',
    });
    assert.equal(b.e.holderUrl, 'http://10.0.0.1:8080');
    // Someone rewrote the Lease without the annotation: the next renewal puts it back.
    if (store.record) delete store.record.leaderUrl;
    at(2);
    await a.e.tick();
    assert.equal(store.record?.leaderUrl, 'http://10.0.0.1:8080', 'kept on renew');
    await a.e.stop({ release: true });
    assert.equal(store.record?.holderIdentity, '');
    assert.equal(store.record?.leaderUrl, undefined, 'nobody to forward to');
    at(3);
    assert.deepEqual(await b.e.tick(), {
      leading: true,
      holder: 'b',
      holderUrl: 'http://10.0.0.2:8080',
    });
    assert.equal(store.record?.leaderUrl, 'http://10.0.0.2:8080', "the new leader's URL");
  });

  test('a holder that publishes no URL is followed without one (an older version)', async () => {
    const { at, elector } = setup();
    const old = elector('old');
    const b = elector('b', 'http://10.0.0.2:8080');
    await old.e.tick();
    at(1);
    assert.deepEqual(await b.e.tick(), { leading: false, holder: 'old' });
    assert.equal(b.e.holderUrl, undefined);
  });

  test('refuses timings where the old leader could still act after the Lease expired', () => {
    const store = new MemoryLeaseStore();
    assert.throws(
      () =>
        new LeaseElector({
          store,
          identity: 'a',
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
        }),
      /renew deadline must be shorter/,
    );
  });
});
