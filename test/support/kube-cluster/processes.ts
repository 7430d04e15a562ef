// Control-plane child processes: output to a log file in the cluster's folder, and killed (and
// their folders removed) whatever way the test process ends: after(), a failed test, SIGINT,
// SIGTERM or an uncaught error.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, rmSync, readFileSync } from 'node:fs';

export interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
const dirs = new Set<string>();
let hooked = false;

function killAllNow(): void {
  for (const cleanup of cleanups) cleanup();
  cleanups.clear();
  killAndWait([...live].flatMap((child) => (child.pid === undefined ? [] : [child.pid])));
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllNow();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Whether a process still runs: a zombie has ended, only its exit status waits to be reaped. */
export function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * SIGKILLs these processes and blocks until each has ended, or `waitMs` passed (a guard for a
 * process stuck in the kernel). A SIGKILL lands asynchronously: a process in uninterruptible I/O
 * (etcd's fdatasync on a busy disk) ends only when the I/O returns, and whoever looks at the host
 * right after this process exits must not find it. Synchronous: it runs from the 'exit' hook.
 */
export function killAndWait(pids: number[], waitMs = 30_000): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Ended already.
    }
  }
  const end = Date.now() + waitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(isRunning) && Date.now() < end) Atomics.wait(pause, 0, 0, 20);
}

/**
 * Runs `cleanup` (synchronous) when the test process ends, before processes are killed and
 * folders removed. Returns the function that unregisters it.
 */
export function onExit(cleanup: () => void): () => void {
  hookExit();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Removes `dir` when the test process ends, if nothing removed it before. */
export function removeOnExit(dir: string): () => void {
  hookExit();
  dirs.add(dir);
  return () => {
    dirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
}

export function startProc(name: string, bin: string, args: string[], logPath: string): Proc {
  hookExit();
  const fd = openSync(logPath, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<number | null>((ok) =>
    child.once('exit', (code) => {
      live.delete(child);
      ok(code);
    }),
  );
  child.once('error', () => live.delete(child));
  const tail = (lines = 30) => {
    try {
      return readFileSync(logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    name,
    child,
    logPath,
    tail,
    exited,
    // A throwaway cluster: nothing to shut down gracefully (etcd takes seconds on SIGTERM).
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
