// Spawns one script and sees it to the end, process group included. execa's own timeout,
// forceKillAfterDelay and cleanup only ever signal the direct child; rollback scripts start
// children (`kubectl rollout status`, `sleep`), so the child is made a process-group leader
// (`detached`) and every signal goes to the whole group.
import { readFile, readdir } from 'node:fs/promises';
import { execa } from 'execa';
import { createOutputTail } from './output-tail.js';

export interface RunScriptOptions {
  file: string;
  args: readonly string[];
  /** The complete environment: nothing is inherited. */
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  killGraceMs: number;
  outputTailBytes: number;
  signal: AbortSignal;
  now: () => number;
  /** Minimum time between two onOutput calls. */
  outputIntervalMs?: number;
  onStart?(info: { pid: number; startedAt: number }): void;
  /** The last line of output, throttled. */
  onOutput?(line: string): void;
  onTerminate?(info: { cause: TerminationCause; signal: 'SIGTERM' | 'SIGKILL' }): void;
}

export type TerminationCause = 'timeout' | 'abort';

export type RunScriptResult =
  | { started: false; error: string }
  | {
      started: true;
      startedAt: number;
      exitCode: number | null;
      signal: string | null;
      durationMs: number;
      /** Set when the controller ended the script (timeout or cancellation). */
      terminatedBy: TerminationCause | null;
      /** True when SIGTERM was not enough and the group got SIGKILL. */
      escalated: boolean;
      outputTail: string;
    };

/** Groups still running, killed if the controller exits under them (they are detached). */
const liveGroups = new Set<number>();
const killLiveGroups = (): void => {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
};

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether any live process is left in the group. `kill(-pgid, 0)` also succeeds for zombies,
 * and orphans stay zombies when PID 1 does not reap (node as PID 1 in a container), so on Linux
 * the members' states are read from /proc.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state ppid pgrp ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

/** Polls until no live process of the group is left, or `ms` has passed. */
async function groupGone(pgid: number, ms: number): Promise<void> {
  const step = 25;
  for (let waited = 0; waited < ms && (await groupAlive(pgid)); waited += step) {
    await new Promise((r) => setTimeout(r, step));
  }
}

export async function runScript(o: RunScriptOptions): Promise<RunScriptResult> {
  const tail = createOutputTail(o.outputTailBytes);
  const subprocess = execa(o.file, o.args, {
    shell: false,
    extendEnv: false,
    env: o.env,
    cwd: o.cwd,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    detached: true,
    // Both would act on the leader only; the group handling below replaces them.
    cleanup: false,
    forceKillAfterDelay: false,
  });
  const pid = subprocess.pid;
  if (pid === undefined) {
    const result = await subprocess;
    return {
      started: false,
      error: result.originalMessage || result.shortMessage || 'spawn failed',
    };
  }

  const startedAt = o.now();
  if (liveGroups.size === 0) process.once('exit', killLiveGroups);
  liveGroups.add(pid);
  o.onStart?.({ pid, startedAt });

  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  // Output: keep the tail, report the last line at most once per interval (leading + trailing).
  const interval = o.outputIntervalMs ?? 1000;
  let lastReport = Number.NEGATIVE_INFINITY;
  let trailingPending = false;
  const report = (): void => {
    lastReport = o.now();
    const line = tail.lastLine();
    if (line !== '') o.onOutput?.(line);
  };
  const onChunk = (chunk: Buffer): void => {
    tail.push(chunk);
    if (!o.onOutput) return;
    // A scheduled trailing report (possibly late, on a busy machine) reports this chunk too:
    // reporting it now as well would send the same line twice.
    if (trailingPending) return;
    const wait = lastReport + interval - o.now();
    if (wait <= 0) report();
    else {
      trailingPending = true;
      // A timer can fire a little before its time by the wall clock (the event loop's cached
      // time is stale on a busy machine): wait out the rest rather than report early.
      const trailing = (): void => {
        const rest = lastReport + interval - o.now();
        if (rest > 0) return later(rest, trailing);
        trailingPending = false;
        report();
      };
      later(wait, trailing);
    }
  };
  subprocess.stdout.on('data', onChunk);
  subprocess.stderr.on('data', onChunk);

  let exit: { code: number | null; signal: string | null; at: number } | undefined;
  let terminatedBy: TerminationCause | null = null;
  let escalated = false;

  const terminate = (cause: TerminationCause): void => {
    if (exit || terminatedBy) return;
    terminatedBy = cause;
    signalGroup(pid, 'SIGTERM');
    o.onTerminate?.({ cause, signal: 'SIGTERM' });
    later(o.killGraceMs, () => {
      if (exit) return;
      escalated = true;
      signalGroup(pid, 'SIGKILL');
      o.onTerminate?.({ cause, signal: 'SIGKILL' });
    });
  };
  const onAbort = (): void => terminate('abort');
  later(o.timeoutMs, () => terminate('timeout'));
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener('abort', onAbort, { once: true });

  const exited = new Promise<void>((resolveExit) => {
    subprocess.once('exit', (code, signal) => {
      exit = { code, signal, at: o.now() };
      resolveExit();
    });
  });
  // Leftover children (`cmd &`) may outlive the script and keep the pipes open: once the script
  // itself has exited, its group gets SIGTERM, then SIGKILL if anything is left after the grace.
  const cleanedUp = exited.then(async () => {
    if (await groupAlive(pid)) {
      signalGroup(pid, 'SIGTERM');
      await groupGone(pid, o.killGraceMs);
      if (await groupAlive(pid)) {
        signalGroup(pid, 'SIGKILL');
        // Delivery is immediate but death is not: finish once the group is really gone.
        await groupGone(pid, 1000);
      }
    }
    // A grandchild that escaped the group (setsid) could still hold the pipes: stop reading.
    later(1000, () => {
      subprocess.stdout.destroy();
      subprocess.stderr.destroy();
    });
  });

  const result = await subprocess;
  await cleanedUp;
  for (const timer of timers) clearTimeout(timer);
  o.signal.removeEventListener('abort', onAbort);
  liveGroups.delete(pid);
  if (liveGroups.size === 0) process.removeListener('exit', killLiveGroups);

  const end = exit ?? { code: result.exitCode ?? null, signal: result.signal ?? null, at: o.now() };
  return {
    started: true,
    startedAt,
    exitCode: end.code,
    signal: end.signal,
    durationMs: Math.max(0, end.at - startedAt),
    terminatedBy,
    escalated,
    outputTail: tail.text(),
  };
}
