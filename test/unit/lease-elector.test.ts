import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { TransientError } from '../../src/kube/kube-errors.js';
import {
  adoptionRecords,
  controllerStateOf,
  parseControllerState,
  type ClusterControllerState,
} from '../../src/ha/controller-state-annotation.js';
import {
  LeaseElector,
  type Leadership,
  type LeaseElectorOptions,
} from '../../src/ha/lease-elector.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from '../../src/ha/lease-store.js';
import { ControllerState } from '../../src/jobs/controller-state.js';
import { until } from '../support/until.js';

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
  const elector = (
    identity: string,
    advertiseUrl?: string,
    extra: Partial<LeaseElectorOptions> = {},
  ) => {
    const e = new LeaseElector({
      store,
      identity,
      now: () => clock.t,
      ...(advertiseUrl ? { advertiseUrl } : {}),
      ...extra,
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

describe('LeaseElector: the kill switch and circuit breaker travel on the Lease', () => {
  /** A replica: its journal-backed state, published only while it leads (as HighAvailability does). */
  function replica() {
    const r = { state: new ControllerState(), leads: false };
    const publish = () => (r.leads ? JSON.stringify(controllerStateOf(r.state)) : undefined);
    return { r, publish };
  }
  const onLease = (store: MemoryLeaseStore) =>
    JSON.parse(String(store.record?.controllerState)) as ClusterControllerState;
  /** What a new leader does before it acts: the records it journals to follow the Lease. */
  const takeOver = (e: LeaseElector, state: ControllerState) => {
    const parsed = parseControllerState(e.controllerState);
    assert.ok(parsed && 'state' in parsed, 'the annotation is readable');
    const records = adoptionRecords(state, parsed.state, true);
    state.applyAll(records);
    return records;
  };
  const PAUSED_AT = Date.parse('2026-11-22T03:00:00.000Z');

  test('a pause is written, carried on renewals, kept through a takeover and read by the new leader', async () => {
    const { store, at, elector } = setup();
    const ra = replica();
    const rb = replica();
    const a = elector('a', undefined, { controllerState: ra.publish });
    const b = elector('b', undefined, { controllerState: rb.publish });
    await a.e.tick();
    ra.r.leads = true;
    at(1);
    await a.e.tick();
    assert.equal(onLease(store).paused, false);

    ra.r.state.apply({ t: 'pause', at: PAUSED_AT, paused: true, by: 'ops', reason: 'incident 42' });
    at(2);
    await a.e.tick();
    assert.deepEqual(onLease(store), {
      paused: true,
      pausedBy: 'ops',
      pauseReason: 'incident 42',
      pausedAt: '2026-11-22T03:00:00.000Z',
      circuitOpen: false,
      updatedAt: '2026-11-22T03:00:00.000Z',
    });
    // Someone rewrote the Lease without it: the next renewal puts it back.
    if (store.record) delete store.record.controllerState;
    at(3);
    await a.e.tick();
    assert.equal(onLease(store).paused, true, 'kept on renew');

    // a dies. b acquires the expired Lease while it has nothing of its own to publish yet.
    at(4);
    await b.e.tick();
    at(20);
    assert.equal((await b.e.tick()).leading, true);
    assert.equal(onLease(store).paused, true, 'the acquiring write keeps the predecessor state');
    const records = takeOver(b.e, rb.r.state);
    assert.deepEqual(records, [
      { t: 'pause', at: PAUSED_AT, paused: true, by: 'ops', reason: 'incident 42' },
    ]);
    assert.equal(rb.r.state.paused, true);
    assert.equal(rb.r.state.pause.by, 'ops');
    rb.r.leads = true;
    at(21);
    await b.e.tick();
    assert.deepEqual(onLease(store), controllerStateOf(rb.r.state), 'b publishes its own state');
    assert.equal(onLease(store).pausedAt, '2026-11-22T03:00:00.000Z', 'the original pause time');

    // A clean stop hands the state over with the Lease.
    await b.e.stop({ release: true });
    assert.equal(store.record?.holderIdentity, '');
    assert.equal(onLease(store).paused, true);
  });

  test('a failed write is logged and retried by the next renewal until it sticks', async () => {
    const { store, at, elector } = setup();
    const lines: Array<{ msg: string; level: number }> = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const ra = replica();
    ra.r.leads = true;
    const a = elector('a', undefined, { controllerState: ra.publish, logger });
    await a.e.tick();
    ra.r.state.apply({ t: 'circuit', at: PAUSED_AT, open: true, reason: '4 rollbacks in 600s' });
    store.failure = new TransientError('GET Lease: 503', 503);
    at(1);
    await a.e.tick();
    at(2);
    await a.e.tick();
    assert.equal(onLease(store).circuitOpen, false, 'not written yet');
    const warned = lines.filter((l) => /could not publish the controller state/.test(l.msg));
    assert.equal(warned.length, 2);
    assert.equal(warned[0]?.level, 40, 'the first failure is a warning');
    store.failure = undefined;
    at(3);
    await a.e.tick();
    assert.equal(onLease(store).circuitOpen, true);
    assert.equal(onLease(store).circuitReason, '4 rollbacks in 600s');
    assert.ok(lines.some((l) => /controller state .* published on the lease/.test(l.msg)));
  });

  test('renewNow() writes at once instead of waiting out the retry period', async () => {
    const store = new MemoryLeaseStore();
    const ra = replica();
    ra.r.leads = true;
    let ticks = 0;
    const e = new LeaseElector({
      store,
      identity: 'a',
      controllerState: ra.publish,
      // Sleeps last until woken: only renewNow() (or stop) can start the next round.
      sleep: (_ms, signal) =>
        new Promise((ok) => {
          ticks++;
          signal.addEventListener('abort', () => ok(), { once: true });
        }),
    });
    e.start();
    await until(() => ticks === 1);
    ra.r.state.apply({ t: 'pause', at: PAUSED_AT, paused: true, by: 'ops' });
    e.renewNow();
    await until(() => ticks === 2);
    assert.equal(onLease(store).paused, true);
    await e.stop();
  });
});

describe('adoptionRecords: the later change wins', () => {
  const T = (h: number) => Date.parse('2026-11-22T00:00:00.000Z') + h * 3600_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const local = (records: Parameters<ControllerState['apply']>[0][]) => {
    const s = new ControllerState();
    for (const r of records) s.apply(r);
    return s;
  };

  test('the cluster says paused, this replica never paused: pause with the same details', () => {
    const records = adoptionRecords(
      local([]),
      {
        paused: true,
        pausedBy: 'ops',
        pausedAt: iso(T(3)),
        circuitOpen: true,
        circuitReason: 'too many',
        circuitOpenedAt: iso(T(2)),
        updatedAt: iso(T(3)),
      },
      true,
    );
    assert.deepEqual(records, [
      { t: 'pause', at: T(3), paused: true, by: 'ops' },
      { t: 'circuit', at: T(2), open: true, reason: 'too many' },
    ]);
  });

  test('own journal paused, the cluster resumed later: resume (and close the breaker)', () => {
    const mine = local([{ t: 'pause', at: T(1), paused: true, by: 'ops' }]);
    const records = adoptionRecords(
      mine,
      {
        paused: false,
        circuitOpen: false,
        updatedAt: iso(T(2)),
      },
      true,
    );
    assert.deepEqual(records, [
      { t: 'pause', at: T(2), paused: false },
      { t: 'circuit', at: T(2), open: false },
    ]);
    mine.applyAll(records);
    assert.equal(mine.paused, false);
  });

  test('own journal paused after the cluster last changed: stay paused', () => {
    const mine = local([{ t: 'pause', at: T(3), paused: true, by: 'ops' }]);
    assert.deepEqual(
      adoptionRecords(mine, { paused: false, circuitOpen: false, updatedAt: iso(T(2)) }, true),
      [],
    );
  });

  test('own journal resumed after the cluster paused: the later resume wins', () => {
    const mine = local([
      { t: 'pause', at: T(1), paused: true },
      { t: 'pause', at: T(4), paused: false },
      { t: 'circuit', at: T(4), open: false },
    ]);
    assert.deepEqual(
      adoptionRecords(
        mine,
        {
          paused: true,
          pausedAt: iso(T(2)),
          circuitOpen: false,
          updatedAt: iso(T(2)),
        },
        true,
      ),
      [],
    );
  });

  test('the same instant: only the safe side is taken', () => {
    const resumedAt = local([{ t: 'circuit', at: T(2), open: false }]);
    assert.equal(
      adoptionRecords(resumedAt, { paused: true, circuitOpen: false, updatedAt: iso(T(2)) }, true)
        .length,
      1,
    );
    const pausedAt = local([{ t: 'pause', at: T(2), paused: true }]);
    assert.deepEqual(
      adoptionRecords(pausedAt, { paused: false, circuitOpen: false, updatedAt: iso(T(2)) }, true),
      [],
    );
  });

  test('an unreadable annotation is reported, not trusted', () => {
    assert.equal(parseControllerState(undefined), undefined);
    assert.deepEqual(parseControllerState('{'), { problem: 'not JSON' });
    assert.deepEqual(parseControllerState('{"paused":"yes"}'), {
      problem: 'no boolean "paused"',
    });
    assert.deepEqual(parseControllerState('{"paused":true,"circuitOpen":false}'), {
      problem: 'no valid "updatedAt"',
    });
  });
});
