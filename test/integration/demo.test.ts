// `npm run demo` end to end: it exits 0 by itself, its output shows the bad deploy rolled back to
// v1, Slack messages and the rollback metrics, and nothing it started is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

function runDemo(timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/demo/run.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      ok({ code, out, err });
    });
  });
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

test('npm run demo rolls shop/checkout back to v1, shows Slack and metrics, and cleans up', async () => {
  const { code, out, err } = await runDemo(60_000);
  assert.equal(code, 0, `demo exited ${code}\n${out}\n${err}`);

  // The bad deploy, then the rollback to the good image.
  assert.match(out, /Deployment shop\/checkout runs registry\.example\.com\/shop\/checkout:v2/);
  assert.match(out, /job succeeded/);
  const after = out.slice(out.indexOf('job succeeded'));
  assert.match(after, /Deployment shop\/checkout runs registry\.example\.com\/shop\/checkout:v1/);
  assert.match(after, /3\s+registry\.example\.com\/shop\/checkout:v1\s+3\/3\s+\S+\s+← current/);

  // Slack messages rendered as text, not JSON.
  const slack = out.slice(out.indexOf('Slack:'), out.indexOf('Job timeline'));
  assert.match(slack, /│ ■ ⏪ Rollback started/);
  assert.match(slack, /│ Revision: 2 → 1/);
  assert.match(slack, /Rollback succeeded/);
  assert.doesNotMatch(slack, /"blocks"|"type":/);

  // Timeline and metrics.
  assert.match(out, /patched\s+patched Deployment shop\/checkout: revision 2 → 1/);
  assert.match(
    out,
    /rollback_jobs_total\{trigger="error_rate_threshold",executor="kubernetes",outcome="succeeded"\}\s+1/,
  );

  // When Alertmanager is installed the alert went through it.
  if (out.includes('Alertmanager '))
    assert.match(out, /POST http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts/);

  // Nothing left behind: temp dir gone, servers closed.
  // It never points at a log it is about to delete: the path appears only with "removed".
  assert.doesNotMatch(out, /controller\.log/);
  assert.match(out, /controller log: in the temp dir, removed at the end \(npm run demo -- --keep/);
  const tempDir = /stopped and removed: .*temp dir (\S+?)[,.]/.exec(out)?.[1];
  assert.ok(tempDir, 'the demo names the temp dir it removed');
  assert.equal(existsSync(tempDir), false, `${tempDir} was removed`);
  const urls = [
    ...out.matchAll(/(?:listening on|Alertmanager \S+ at) (http:\/\/127\.0\.0\.1:\d+)/g),
  ].map((m) => m[1]);
  assert.ok(urls.length >= 1, 'the demo names the controller URL');
  for (const url of urls) assert.ok(await refused(`${url}/`), `${url} no longer answers`);
});
