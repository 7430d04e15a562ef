// Each process owns its data directory: two controllers appending to one journal would corrupt
// it and double-run jobs. A lock file naming its owner, taken over only when that owner is gone.
// A PID alone does not name a process for long: a container restarted in the same pod (the data
// volume outlives it) gets a new PID namespace where its predecessor's PID is soon reused, often
// by one of its own threads. So the lock also records the owner's start time (and the boot it
// belongs to) and the owner counts as alive only while that PID still has that start time.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Owner {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22), where /proc exists. */
  start?: string;
  boot?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces). */
function startTime(pid: number | 'self'): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const bootId = (): string | undefined => readProc('/proc/sys/kernel/random/boot_id')?.trim();

/** The process a PID (or thread id) belongs to, where /proc says. */
function threadGroup(pid: number): number | undefined {
  const m = /^Tgid:\s+(\d+)$/m.exec(readProc(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) : undefined;
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner> | number;
    // A lock written before start times were recorded holds the PID alone.
    if (typeof o === 'number') return Number.isInteger(o) && o > 0 ? { pid: o } : undefined;
    return Number.isInteger(o.pid) && Number(o.pid) > 0 ? (o as Owner) : undefined;
  } catch {
    return undefined;
  }
}

function ownerAlive(o: Owner): boolean {
  if (o.pid === process.pid || !signalable(o.pid)) return false;
  // One of this process's own threads (a reused PID in a new PID namespace).
  if (threadGroup(o.pid) === process.pid) return false;
  if (o.start === undefined) return true;
  if (o.boot !== undefined && bootId() !== undefined && o.boot !== bootId()) return false;
  const now = startTime(o.pid);
  return now === undefined || now === o.start;
}

export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'controller.lock');
  const me: Owner = { pid: process.pid };
  const start = startTime('self');
  const boot = bootId();
  if (start !== undefined) me.start = start;
  if (boot !== undefined) me.boot = boot;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = parseOwner(readFileSync(path, 'utf8'));
      if (owner && ownerAlive(owner)) {
        throw new Error(
          `data directory ${dir} is in use by process ${owner.pid}: give each controller its own ROLLBACK_DATA_DIR`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock data directory ${dir}`);
}
