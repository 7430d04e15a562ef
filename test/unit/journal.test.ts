// The journal against the real filesystem, plus a wrapper that counts fsyncs and injects faults.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
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

function countingFs(state: { syncs: number; failWrites: number; partial?: boolean }): JournalFs {
  return {
    readFile: (p) => readFile(p, 'utf8'),
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
    const { records, torn } = await new Journal<{ n: number }>(dir).open();
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

  test('compaction replaces the file with the snapshot atomically', async () => {
    const dir = tmp();
    const j = new Journal<{ n: number }>(dir);
    await j.open();
    await j.append(Array.from({ length: 50 }, (_, n) => ({ n })));
    await j.compact([{ n: 99 }]);
    await j.append([{ n: 100 }]);
    await j.close();
    const { records } = await new Journal<{ n: number }>(dir).open();
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
});
