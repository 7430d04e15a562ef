// The journal against the real filesystem, plus a wrapper that counts fsyncs and injects faults.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Journal, JournalWriteError, type JournalFs } from '../../src/jobs/journal.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rc-journal-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** What a restart would replay; the journal is closed again (an open handle left to the GC is DEP0137). */
async function replay<R>(dir: string): Promise<{ records: R[]; torn: number }> {
  const j = new Journal<R>(dir);
  const { records, torn } = await j.open();
  await j.close();
  return { records, torn };
}

function countingFs(state: { syncs: number; failWrites: number; partial?: boolean }): JournalFs {
  return {
    rename: (a, b) => rename(a, b),
    open: async (p, flags) => {
      const h = await open(p, flags, 0o600);
      return new Proxy(h, {
        get(target, prop, recv) {
          if (prop === 'datasync')
            return async () => {
              state.syncs++;
              return target.datasync();
            };
          if (prop === 'write') {
            return async (buf: Buffer, off: number, len: number, pos: number) => {
              if (state.failWrites > 0) {
                state.failWrites--;
                // Simulate a disk that filled up half-way through the batch.
                if (state.partial) await target.write(buf, off, Math.floor(len / 2), pos);
                throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
              }
              return target.write(buf, off, len, pos);
            };
          }
          const v = Reflect.get(target, prop, recv) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  };
}

describe('journal', () => {
  test('a record that changes nothing answers without its own fsync, never ahead of one in flight', async () => {
    const dir = tmp();
    let release = (): void => undefined;
    let gate = Promise.resolve();
    const fs: JournalFs = {
      rename: (a, b) => rename(a, b),
      open: async (path, flags) => {
        const h = await open(path, flags, 0o600);
        return new Proxy(h, {
          get(target, prop, recv) {
            if (prop === 'datasync') return async () => gate.then(() => target.datasync());
            const v = Reflect.get(target, prop, recv) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
      },
    };
    const j = new Journal<{ n: number }>(dir, { fs });
    await j.open();
    gate = new Promise<void>((r) => (release = r));
    // Nothing in flight: answered while its fsync is still held at the gate.
    await j.append([{ n: 1 }], { durable: false });
    release();
    await j.append([{ n: 2 }]);

    // A durable append in flight: the non-durable one waits for it (it may repeat it).
    gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const first = j.append([{ n: 3 }]).then(() => order.push('durable'));
    const second = j.append([{ n: 4 }], { durable: false }).then(() => order.push('duplicate'));
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['durable', 'duplicate']);
    await j.close();
    const again = new Journal<{ n: number }>(dir);
    assert.deepEqual(
      (await again.open()).records.map((r) => r.n),
      [1, 2, 3, 4],
    );
    await again.close();
  });

  test('concurrent appends are batched into few fsyncs and all survive a reopen', async () => {
    const dir = tmp();
    const state = { syncs: 0, failWrites: 0 };
    const j = new Journal<{ n: number }>(dir, { fs: countingFs(state) });
    await j.open();
    await Promise.all(Array.from({ length: 200 }, (_, n) => j.append([{ n }])));
    assert.ok(state.syncs < 20, `expected group commit, got ${state.syncs} fsyncs for 200 appends`);
    await j.close();
    const again = new Journal<{ n: number }>(dir);
    const { records } = await again.open();
    assert.deepEqual(
      records.map((r) => r.n).sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, n) => n),
    );
    await again.close();
  });

  test('a failed write rejects, leaves no half-written line, and later writes work', async () => {
    const dir = tmp();
    const state = { syncs: 0, failWrites: 1, partial: true };
    const j = new Journal<{ n: number }>(dir, { fs: countingFs(state) });
    await j.open();
    state.failWrites = 0;
    await j.append([{ n: 1 }]);
    const sizeBefore = statSync(j.path).size;
    state.failWrites = 1;
    await assert.rejects(
      j.append([{ n: 2 }, { n: 3 }]),
      (e: Error) => e instanceof JournalWriteError && /ENOSPC/.test(e.message),
    );
    assert.equal(statSync(j.path).size, sizeBefore, 'the partial write was truncated away');
    assert.match(j.lastError ?? '', /ENOSPC/);
    await j.append([{ n: 4 }]);
    assert.equal(j.lastError, undefined);
    await j.close();
    const { records, torn } = await replay<{ n: number }>(dir);
    assert.deepEqual(
      records.map((r) => r.n),
      [1, 4],
    );
    assert.equal(torn, 0);
  });

  test('batches queued behind a failed one fail too (they were decided on top of it)', async () => {
    const dir = tmp();
    const state = { syncs: 0, failWrites: 0 };
    const j = new Journal<{ n: number }>(dir, { fs: countingFs(state) });
    await j.open();
    state.failWrites = 1;
    const first = j.append([{ n: 1 }]);
    const second = j.append([{ n: 2 }]); // queued while the first is in flight
    const order: number[] = [];
    const r = await Promise.allSettled([
      first.catch((e) => {
        order.push(1);
        throw e;
      }),
      second.catch((e) => {
        order.push(2);
        throw e;
      }),
    ]);
    assert.deepEqual(
      r.map((x) => x.status),
      ['rejected', 'rejected'],
    );
    assert.deepEqual(order, [2, 1], 'the later batch is undone first');
    await j.close();
  });

  test('a torn last line from a crash is dropped and cut on open', async () => {
    const dir = tmp();
    const j = new Journal<{ n: number }>(dir);
    await j.open();
    await j.append([{ n: 1 }, { n: 2 }]);
    await j.close();
    appendFileSync(join(dir, 'journal.jsonl'), '{"n":3,"trunc');
    const again = new Journal<{ n: number }>(dir);
    const { records, torn } = await again.open();
    assert.deepEqual(
      records.map((r) => r.n),
      [1, 2],
    );
    assert.equal(torn, 1);
    await again.append([{ n: 4 }]);
    await again.close();
    assert.deepEqual(
      readFileSync(join(dir, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { n: number }).n),
      [1, 2, 4],
    );
  });

  test('tail: the last records a filter keeps, across chunk boundaries and multi-byte text', async () => {
    const dir = tmp();
    // About 3 MiB: lines cross the 1 MiB chunk boundaries, some in the middle of a character.
    const lines = Array.from({ length: 12_000 }, (_, i) =>
      JSON.stringify({ t: i % 3 ? 'job' : 'decision', i, text: `é€ ${'x'.repeat(i % 400)}` }),
    );
    appendFileSync(join(dir, 'journal.jsonl'), `${lines.join('\n')}\n`);
    const j = new Journal<{ t: string; i: number; text: string }>(dir);
    await j.open(() => undefined);
    try {
      const tail = await j.tail(5000, (l) => l.startsWith('{"t":"decision"'));
      const want = lines
        .map((l) => JSON.parse(l) as { t: string; i: number; text: string })
        .filter((r) => r.t === 'decision')
        .slice(-5000);
      assert.deepEqual(tail, want);
      assert.deepEqual(
        (await j.tail(100_000, () => true)).map((r) => r.i),
        lines.map((_, i) => i),
        'the whole file when it asks for more than there is',
      );
    } finally {
      await j.close();
    }
  });

  test('compaction replaces the file with the snapshot atomically', async () => {
    const dir = tmp();
    const j = new Journal<{ n: number }>(dir);
    await j.open();
    await j.append(Array.from({ length: 50 }, (_, n) => ({ n })));
    await j.compact([{ n: 99 }]);
    await j.append([{ n: 100 }]);
    await j.close();
    const { records } = await replay<{ n: number }>(dir);
    assert.deepEqual(
      records.map((r) => r.n),
      [99, 100],
    );
  });

  test('compacts by itself past the size threshold, at a moment nothing is in flight', async () => {
    const dir = tmp();
    const j = new Journal<{ n: number; pad: string }>(dir, { compactAboveBytes: 2000 });
    let snapshots = 0;
    j.snapshot = () => (snapshots++, [{ n: -1, pad: '' }]);
    await j.open();
    for (let i = 0; i < 30; i++) await j.append([{ n: i, pad: 'x'.repeat(100) }]);
    assert.ok(snapshots >= 1);
    assert.ok(j.bytes < 2000 + 200);
    await j.close();
  });

  test('no compaction storm when the snapshot itself is above the threshold', async () => {
    const dir = tmp();
    const j = new Journal<{ n: number; pad: string }>(dir, { compactAboveBytes: 2000 });
    // A state whose snapshot alone (about 5 kB) is over the 2 kB threshold.
    const big = Array.from({ length: 50 }, (_, n) => ({ n, pad: 'y'.repeat(80) }));
    let snapshots = 0;
    j.snapshot = () => (snapshots++, big);
    await j.open();
    await j.compact(big);
    const snapshotBytes = j.bytes;
    assert.ok(snapshotBytes > 2000);
    assert.equal(j.compactAtBytes, 2 * snapshotBytes);
    // 60 appends of ~117 bytes (about 7 kB): one compaction once the journal passes twice the
    // snapshot, not one per append as a fixed threshold below the snapshot would do.
    for (let i = 0; i < 60; i++) await j.append([{ n: i, pad: 'x'.repeat(100) }]);
    assert.equal(snapshots, 1, 'compacted once, when the journal reached twice the snapshot');
    await j.close();
    assert.equal((await replay(dir)).records.length > big.length, true);
  });

  test('replay streams records to a callback, across chunk boundaries and multi-byte text', async () => {
    const dir = tmp();
    const j = new Journal<{ n: number; s: string }>(dir, { fsync: false });
    await j.open();
    // 3,000 records of ~1 kB: about 3 MB, so lines and 'é'/'€' straddle the 1 MiB read chunks.
    const text = 'é€'.repeat(300) + 'x'.repeat(101);
    await j.append(Array.from({ length: 3000 }, (_, n) => ({ n, s: text.slice(n % 7) })));
    await j.close();
    const again = new Journal<{ n: number; s: string }>(dir);
    const seen: number[] = [];
    const { records, count, torn } = await again.open((r) => {
      assert.equal(r.s, text.slice(r.n % 7));
      seen.push(r.n);
    });
    await again.close();
    assert.deepEqual(records, [], 'with a callback nothing is collected');
    assert.equal(count, 3000);
    assert.equal(torn, 0);
    assert.deepEqual(
      seen,
      Array.from({ length: 3000 }, (_, n) => n),
    );
  });

  test('a complete last record without its newline was never acknowledged: cut', async () => {
    const dir = tmp();
    const j = new Journal<{ n: number }>(dir);
    await j.open();
    await j.append([{ n: 1 }]);
    await j.close();
    appendFileSync(join(dir, 'journal.jsonl'), '{"n":2}');
    const { records, torn } = await replay<{ n: number }>(dir);
    assert.deepEqual(
      records.map((r) => r.n),
      [1],
    );
    assert.equal(torn, 1);
    assert.equal(readFileSync(join(dir, 'journal.jsonl'), 'utf8'), '{"n":1}\n');
  });
});
