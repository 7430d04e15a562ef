// The data directory lock from the attacker's-eye view of a restart: a container restarted in
// the same pod keeps the data volume but not the PID namespace, so the PID its predecessor wrote
// soon names another process, often one of the new process's own threads. Only a process that is
// still the one that wrote the lock keeps the directory.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir } from '../../src/jobs/data-dir-lock.js';

const dirs: string[] = [];
const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
after(() => {
  other.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dirWithLock(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'rc-lock-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'controller.lock'), JSON.stringify(content));
  return dir;
}
const lockOwner = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, 'controller.lock'), 'utf8')) as { pid: number }).pid;
const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};
const boot = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

test('a live controller that wrote the lock keeps its directory', () => {
  const pid = other.pid ?? 0;
  const dir = dirWithLock({ pid, start: startOf(pid), boot: boot() });
  assert.throws(() => lockDataDir(dir), new RegExp(`in use by process ${pid}: give each`));
  assert.equal(lockOwner(dir), pid, 'the lock is left as it was');
});

test("the predecessor's PID now used by another process (new start time): taken over", () => {
  const pid = other.pid ?? 0;
  const dir = dirWithLock({ pid, start: '1', boot: boot() });
  const release = lockDataDir(dir);
  assert.equal(lockOwner(dir), process.pid);
  release();
});

test('a lock from before a reboot is taken over', () => {
  const pid = other.pid ?? 0;
  const dir = dirWithLock({ pid, start: startOf(pid), boot: 'another-boot' });
  lockDataDir(dir)();
});

test("a PID-only lock naming one of this process's own threads (a restarted container): taken over", () => {
  const thread = readdirSync('/proc/self/task')
    .map(Number)
    .find((t) => t !== process.pid);
  assert.ok(thread, 'node runs helper threads');
  const dir = dirWithLock(thread);
  const release = lockDataDir(dir);
  assert.equal(lockOwner(dir), process.pid);
  release();
});

test('a PID-only lock of another live process is still respected; an exited one is not', async () => {
  const pid = other.pid ?? 0;
  assert.throws(() => lockDataDir(dirWithLock(pid)), /in use by process/);
  const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => gone.once('exit', r));
  lockDataDir(dirWithLock(gone.pid))();
});
