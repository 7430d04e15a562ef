// An accepted alert is never lost: restart replays the journal, a SIGKILL right after the 202
// loses nothing, nothing runs twice, and a journal that cannot be written answers 503.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { JournalFs } from '../../src/jobs/journal.js';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { SECRET, basic, startTestServer } from '../support/server.js';
import { until } from '../support/until.js';
import { compiledEntry } from '../support/compiled-entry.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rc-durable-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('restart replays the journal', () => {
  test('queued job, held job, pause and dedup keys survive a crash and run exactly once', async () => {
    const dataDir = tmp();
    const first = new RecordingExecutor();
    first.gate = new Promise(() => undefined); // the first job never finishes before the "crash"
    const a = await startTestServer({ dataDir, executors: { kubernetes: first } });
    const alertA = firing('CriticalErrorRate', 'api');
    const alertB = firing('CriticalErrorRate', 'web');
    const held = firing('RedisConnectionFailure', 'cache');
    const r1 = await a.request('POST', 'trigger', payload([alertA, alertB, held]));
    assert.deepEqual(
      r1.body.decisions.map((d: { decision: string }) => d.decision),
      ['queued', 'queued', 'awaiting_approval'],
    );
    await until(() => first.executed().length === 1); // api is running, web is queued behind it
    await a.request('POST', 'pause', { reason: 'investigating' });
    await a.abandon(); // the process "dies": no graceful shutdown

    const second = new RecordingExecutor();
    const b = await startTestServer({ dataDir, executors: { kubernetes: second } });
    try {
      const status = await b.request('GET', 'status');
      assert.equal(status.body.paused.paused, true, 'pause state survives restarts');
      assert.equal(status.body.paused.reason, 'investigating');
      // Paused: nothing starts, not even the interrupted job's recovery... until resume.
      const jobs = (await b.request('GET', 'jobs')).body.jobs as Array<{
        id: string;
        state: string;
        alert: { alertname: string };
        targetKey: string;
      }>;
      assert.equal(jobs.length, 3);
      const byTarget = Object.fromEntries(jobs.map((j) => [j.targetKey, j.state]));
      assert.deepEqual(byTarget, {
        'Deployment/shop/api': 'running',
        'Deployment/shop/web': 'queued',
        'Deployment/shop/cache': 'awaiting_approval',
      });
      // Re-sent alerts are duplicates after the restart.
      const again = await b.request('POST', 'trigger', payload([alertA, alertB, held]));
      assert.deepEqual(
        again.body.decisions.map((d: { decision: string }) => d.decision),
        ['duplicate', 'duplicate', 'duplicate'],
      );
      await b.request('POST', 'resume');
      await until(
        async () => (await b.request('GET', 'jobs?state=succeeded')).body.jobs.length === 2,
      );
      const calls = second.calls.filter((c) => c.method !== 'pin' && c.method !== 'plan');
      assert.deepEqual(calls.map((c) => `${c.method}:${c.targetKey}`).sort(), [
        'execute:Deployment/shop/web',
        'recover:Deployment/shop/api',
      ]);
      const api = jobs.find((j) => j.targetKey === 'Deployment/shop/api')!;
      const detail = (await b.request('GET', `jobs/${api.id}`)).body;
      assert.ok(detail.timeline.some((t: { event: string }) => t.event === 'recovering'));
    } finally {
      await b.close();
    }
  });
});

describe('SIGKILL right after the 202', () => {
  let child: ChildProcess | undefined;
  after(() => child?.kill('SIGKILL'));

  function startProcess(dataDir: string, port: number): Promise<ChildProcess> {
    const p = spawn(process.execPath, [compiledEntry('main')], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        ROLLBACK_DATA_DIR: dataDir,
        ROLLBACK_WEBHOOK_SECRET: SECRET,
        KUBECONFIG: '/nonexistent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((ok, fail) => {
      let out = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"listening"')) ok(p);
      });
      p.on('exit', (code) => fail(new Error(`exited ${code}: ${out}`)));
    });
  }

  test('the decision and the job are there after restart; re-sends are duplicates', async () => {
    const dataDir = tmp();
    const port = 20000 + Math.floor(Math.random() * 20000);
    child = await startProcess(dataDir, port);
    const url = `http://127.0.0.1:${port}/api/admin/rollback`;
    const headers = {
      authorization: basic('alertmanager', SECRET),
      'content-type': 'application/json',
    };
    const body = JSON.stringify(
      payload([
        firing('CriticalErrorRate', 'api', { fingerprint: 'kill9' }),
        firing('RedisConnectionFailure', 'db'),
      ]),
    );
    const res = await fetch(`${url}/trigger`, { method: 'POST', headers, body });
    assert.equal(res.status, 202);
    child.kill('SIGKILL'); // no chance to flush anything after answering
    await new Promise((r) => child!.once('exit', r));

    child = await startProcess(dataDir, port);
    const decided = (
      (await res.json()) as { decisions: Array<{ jobId: string; decision: string }> }
    ).decisions;
    for (const d of decided) {
      const job = await fetch(`${url}/jobs/${d.jobId}`, { headers });
      assert.equal(job.status, 200, `job of the ${d.decision} decision survived`);
    }
    const again = await fetch(`${url}/trigger`, { method: 'POST', headers, body });
    const decisions = ((await again.json()) as { decisions: Array<{ decision: string }> })
      .decisions;
    assert.deepEqual(
      decisions.map((d) => d.decision),
      ['duplicate', 'duplicate'],
    );
    child.kill('SIGTERM');
    const code = await new Promise((r) => child!.once('exit', r));
    assert.equal(code, 0, 'SIGTERM exits 0');
    child = undefined;
  });
});

describe('a journal that cannot be written', () => {
  test('answers 503 and changes nothing; recovers when the disk does', async () => {
    const broken = { on: false };
    const fs: JournalFs = {
      rename: (a, b) => rename(a, b),
      open: async (p, flags) => {
        const h = await open(p, flags, 0o600);
        const write = h.write.bind(h) as (...a: unknown[]) => Promise<unknown>;
        Object.defineProperty(h, 'write', {
          value: (...args: unknown[]) =>
            broken.on
              ? Promise.reject(Object.assign(new Error('read-only file system'), { code: 'EROFS' }))
              : write(...args),
        });
        return h;
      },
    };
    const exec = new RecordingExecutor();
    const s = await startTestServer({ executors: { kubernetes: exec }, journalFs: fs });
    try {
      broken.on = true;
      const res = await s.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'api', { fingerprint: 'ro1' })]),
      );
      assert.equal(res.status, 503);
      assert.match(res.body.error, /journal write failed: EROFS.*retry/);
      assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, []);
      assert.equal(exec.calls.length, 0);
      const ready = await fetch(`${s.url}/readyz`);
      assert.equal(ready.status, 503);
      const pause = await s.request('POST', 'pause');
      assert.equal(pause.status, 503);
      assert.equal((await s.request('GET', 'status')).body.paused.paused, false);
      broken.on = false;
      const retry = await s.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'api', { fingerprint: 'ro1' })]),
      );
      assert.equal(retry.status, 202);
      assert.equal(
        retry.body.decisions[0].decision,
        'queued',
        'the retry is not a duplicate: the failed attempt left no trace',
      );
    } finally {
      await s.close();
    }
  });
});
