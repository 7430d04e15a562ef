// One real node per machine (a fixed bridge; kube-proxy owns the host's KUBE-* chains), so node
// suites and playgrounds started side by side (two CI runs, a playground during a test run) take
// turns instead of failing. The lock is a folder holding its owner's PID, made atomically with
// mkdir; a lock whose owner is gone is taken over (the caller then finds any leftovers).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK = '/run/rollback-controller-node.lock';

function ownerOf(): number | undefined {
  try {
    return Number(readFileSync(join(LOCK, 'pid'), 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until this process holds the node lock; returns its (synchronous) release. */
export async function acquireNodeLock(onWait: (owner: number) => void): Promise<() => void> {
  let told = false;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return () => {
        if (ownerOf() === process.pid) rmSync(LOCK, { recursive: true, force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = ownerOf();
    if (owner === undefined) {
      // Between another process's mkdir and its PID write, or a lock left without a PID: give
      // the writer a moment, then take a PID-less lock over.
      await new Promise((r) => setTimeout(r, 1000));
      if (ownerOf() === undefined) rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (!alive(owner)) {
      rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (!told) onWait(owner);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
