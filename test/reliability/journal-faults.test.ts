// The journal's disk failing under the controller: full (a real 64 KiB tmpfs when the test may
// mount one, else a byte quota injected through journalFs), read-only, or fsync failing. Every
// alert either gets a 202 and is durable, or gets a 503 and left no trace; the journal on disk
// never holds a torn line and reopens cleanly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { JournalFs } from '../../src/jobs/journal.js';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';
import { Figures } from './support/figures.js';

const figures = new Figures('journal-faults');
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rc-rel-journal-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Mode = 'ok' | 'enospc-partial' | 'erofs' | 'fsync-eio';

/**
 * A journalFs whose writes fail on demand like a real disk: ENOSPC after writing part of the
 * buffer (what a filling disk does), EROFS, or EIO from fdatasync after the bytes were written.
 * With `quota`, writes beyond that many bytes in the directory fail with ENOSPC, partially.
 */
function faultyFs(state: { mode: Mode; quota?: number; used?: () => number }): JournalFs {
  const fail = (code: string) =>
    Promise.reject(Object.assign(new Error(`${code}: injected`), { code }));
  return {
    rename: (a, b) => (state.mode === 'erofs' ? fail('EROFS') : rename(a, b)),
    open: async (p, flags) => {
      const h: FileHandle = await open(p, flags, 0o600);
      const write = h.write.bind(h) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
      const datasync = h.datasync.bind(h);
      let tornOnce = false;
      Object.defineProperty(h, 'write', {
        value: async (buf: Buffer, off: number, len: number, pos: number) => {
          if (state.mode === 'erofs') return fail('EROFS');
          let room = len;
          if (state.mode === 'enospc-partial') room = tornOnce ? 0 : Math.max(1, len >> 1);
          if (state.quota !== undefined && state.used)
            room = Math.min(room, Math.max(0, state.quota - state.used()));
          if (room <= 0) return fail('ENOSPC');
          if (room < len) tornOnce = true;
          return write(buf, off, room, pos);
        },
      });
      Object.defineProperty(h, 'datasync', {
        value: () => (state.mode === 'fsync-eio' ? fail('EIO') : datasync()),
      });
      return h;
    },
  };
}

/** Every line of the journal parses and the file ends on a line boundary. */
function assertClean(path: string): number {
  const text = readFileSync(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the journal ends on a complete line');
  const lines = text.split('\n').filter(Boolean);
  for (const [i, line] of lines.entries()) {
    assert.doesNotThrow(() => JSON.parse(line), `journal line ${i + 1} is whole JSON`);
  }
  return lines.length;
}

let n = 0;
const alertFor = (name: string) =>
  payload([firing('CriticalErrorRate', name, { fingerprint: `jf${++n}` })]);

describe('a journal that cannot be written', () => {
  for (const mode of ['enospc-partial', 'erofs', 'fsync-eio'] as const) {
    test(`${mode}: 503, nothing half-written, no job; clean reopen after the disk recovers`, async () => {
      const dataDir = tmp();
      const state: { mode: Mode } = { mode: 'ok' };
      const exec = new RecordingExecutor();
      let s: TestServer = await startTestServer({
        dataDir,
        executors: { kubernetes: exec },
        journalFs: faultyFs(state),
      });
      const journal = join(dataDir, 'journal.jsonl');
      try {
        const a = alertFor('jf-a');
        const accepted = await s.request('POST', 'trigger', a);
        assert.equal(accepted.status, 202);
        // Job A's own records settle: it succeeded and that is the journal's last record, so
        // nothing of A's is still to be written when the disk starts failing.
        const idA = String(accepted.body.decisions[0].jobId);
        await until(
          async () => {
            if ((await s.request('GET', `jobs/${idA}`)).body.state !== 'succeeded') return false;
            const last = readFileSync(journal, 'utf8').trimEnd().split('\n').at(-1) ?? '{}';
            const record = JSON.parse(last) as { job?: { id: string; state: string } };
            return record.job?.id === idA && record.job.state === 'succeeded';
          },
          10_000,
          "job A's records are all written",
        );
        const sizeBefore = statSync(journal).size;
        const jobsBefore = (await s.request('GET', 'jobs')).body.jobs.length;

        state.mode = mode;
        const b = alertFor('jf-b');
        const t0 = performance.now();
        const failed = await s.request('POST', 'trigger', b);
        figures.add(mode, '503 answered in', performance.now() - t0, 'ms');
        assert.equal(failed.status, 503);
        const code = mode === 'erofs' ? 'EROFS' : mode === 'fsync-eio' ? 'EIO' : 'ENOSPC';
        assert.match(failed.body.error, new RegExp(`journal write failed: ${code}.*retry`));
        assert.equal(statSync(journal).size, sizeBefore, 'the failed write was cut away');
        assertClean(journal);
        assert.equal((await s.request('GET', 'jobs')).body.jobs.length, jobsBefore, 'no job');

        state.mode = 'ok';
        const retried = await s.request('POST', 'trigger', b);
        assert.equal(retried.status, 202);
        assert.equal(retried.body.decisions[0].decision, 'queued', 'the 503 left no trace');
        await s.abandon();

        s = await startTestServer({ dataDir, executors: { kubernetes: new RecordingExecutor() } });
        assert.ok(!s.logs.some((l) => l.includes('torn')), 'reopened without a torn tail');
        const jobs = (await s.request('GET', 'jobs')).body.jobs as Array<{
          alert: { labels: { deployment: string } };
        }>;
        assert.deepEqual(jobs.map((j) => j.alert.labels.deployment).sort(), ['jf-a', 'jf-b']);
        figures.add(mode, 'journal lines after reopen', assertClean(journal));
      } finally {
        await s.close();
      }
    });
  }

  test('the disk fills up under a stream of alerts (64 KiB tmpfs, or a quota when not root)', async () => {
    const mountPoint = tmp();
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], {
        stdio: 'ignore',
      });
      mounted = true;
    } catch {
      /* not root, or no mount(8): a byte quota through journalFs stands in for the tiny disk */
    }
    figures.add('disk full', 'disk', mounted ? 'real tmpfs, 64 KiB' : 'injected 40 KiB quota');
    const dataDir = join(mountPoint, 'data');
    const filler = join(mountPoint, 'filler');
    const state: { mode: Mode; quota?: number; used?: () => number } = { mode: 'ok' };
    if (!mounted) {
      state.quota = 40 * 1024;
      state.used = () => {
        try {
          return statSync(join(dataDir, 'journal.jsonl')).size;
        } catch {
          return 0;
        }
      };
    }
    let s: TestServer | undefined;
    try {
      // Leave about 40 KiB of the 64 KiB for the controller.
      if (mounted) writeFileSync(filler, Buffer.alloc(20 * 1024));
      s = await startTestServer({
        dataDir,
        executors: { kubernetes: new RecordingExecutor() },
        configText: 'policy: { circuitBreaker: { maxRollbacks: 1000 } }',
        ...(mounted ? {} : { journalFs: faultyFs(state) }),
      });
      const accepted: string[] = [];
      let refused: Record<string, unknown> | undefined;
      for (let i = 0; i < 400 && !refused; i++) {
        const body = alertFor(`fill-${i}`);
        const r = await s.request('POST', 'trigger', body);
        if (r.status === 202) accepted.push(r.body.decisions[0].jobId as string);
        else {
          assert.equal(r.status, 503, JSON.stringify(r.body));
          assert.match(r.body.error, /ENOSPC/);
          refused = body;
        }
      }
      assert.ok(refused, 'the disk filled up and an alert was refused with 503');
      figures.add('disk full', 'alerts accepted before the disk was full', accepted.length);
      const journal = join(dataDir, 'journal.jsonl');
      // Jobs keep journaling their progress (and failing to): look once they are over, as a
      // crash would leave it (a write still in flight is cut on open, see the reopen below).
      let jobs: Array<{ state: string; reason: string }> = [];
      await until(
        async () => {
          jobs = (await s!.request('GET', 'jobs?limit=1000')).body.jobs;
          return jobs.every((j) => ['succeeded', 'failed'].includes(j.state));
        },
        10_000,
        'the accepted jobs finishing',
      );
      // A job that could not record its own progress says so instead of pretending.
      for (const j of jobs.filter((x) => x.state === 'failed'))
        assert.match(j.reason, /journal write failed: ENOSPC/);
      figures.add(
        'disk full',
        'jobs failed: their progress could not be journaled',
        jobs.filter((x) => x.state === 'failed').length,
      );
      // Every accepted job has settled (none queued or running): nothing is left in flight.
      const server = s;
      await until(
        async () =>
          (await server.request('GET', 'jobs?limit=1000')).body.jobs.every(
            (j: { state: string }) => j.state !== 'queued' && j.state !== 'running',
          ),
        10_000,
        'every accepted job settled',
      );
      // A job's last progress note may still be on its way to the disk (and failing): the file
      // is judged once nothing is in flight, as a crash would leave it after the truncate.
      await s.journalSettled();
      figures.add('disk full', 'journal bytes when full', statSync(journal).size, 'B');
      assertClean(journal);
      for (const id of accepted)
        assert.equal((await s.request('GET', `jobs/${id}`)).status, 200, `job ${id} is known`);
      assert.equal(
        (await s.request('GET', 'jobs?limit=1000')).body.jobs.length,
        accepted.length,
        'the refused alert made no job',
      );
      const ready = await fetch(`${s.url}/readyz`);
      assert.equal(ready.status, 503, 'readiness reports the broken journal');

      // Space comes back: the refused alert is decided afresh; a restart replays everything.
      if (mounted) rmSync(filler);
      else state.quota = Infinity;
      const retry = await s.request('POST', 'trigger', refused);
      assert.equal(retry.status, 202);
      assert.equal(retry.body.decisions[0].decision, 'queued');
      accepted.push(retry.body.decisions[0].jobId as string);
      await s.abandon();
      s = await startTestServer({ dataDir, executors: { kubernetes: new RecordingExecutor() } });
      assert.ok(!s.logs.some((l) => l.includes('torn')), 'reopened without a torn tail');
      for (const id of accepted)
        assert.equal((await s.request('GET', `jobs/${id}`)).status, 200, `job ${id} survived`);
      figures.add('disk full', 'jobs after restart', accepted.length);
    } finally {
      await s?.close();
      // Lazily: the abandoned first controller's journal may still have a write in flight, and
      // its file stays open until that settles; the mount goes as soon as nothing uses it.
      if (mounted) execFileSync('umount', ['--lazy', mountPoint]);
    }
  });
});
