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
  for (const child of live) child.kill('SIGKILL');
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
