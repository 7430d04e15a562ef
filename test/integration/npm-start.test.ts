// `npm start` as a user runs it: it builds, listens, and SIGTERM to npm (a process manager, a
// terminal closing) stops the server too. npm forwards the signal to the shell running the script;
// without `exec` that shell died and left the server running, still holding its port and data dir.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../support/prometheus.js';
import { SECRET } from '../support/server.js';
import { until } from '../support/until.js';

const root = resolve(import.meta.dirname, '../..');

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

test('SIGTERM to `npm start` stops the server it started', { timeout: 900_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rc-npm-start-'));
  const port = await freePort();
  // Its own process group, so the test can tell whether anything of it is left.
  const npm = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ROLLBACK_DATA_DIR: dataDir,
      ROLLBACK_WEBHOOK_SECRET: SECRET,
      KUBECONFIG: '/nonexistent/kubeconfig',
      LOG_FORMAT: 'json',
    },
  });
  const pgid = npm.pid ?? 0;
  let out = '';
  npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    // The build runs first (prestart): a busy machine may take minutes.
    await until(() => out.includes('"msg":"listening"'), 600_000, `listening:\n${out}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    process.kill(pgid, 'SIGTERM'); // npm alone, as a process manager would
    await until(() => !groupAlive(pgid), 60_000, 'every process of npm start gone');
    assert.match(out, /"msg":"stopped cleanly"/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the port is free again');
  } finally {
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
