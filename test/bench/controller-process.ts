// The compiled controller (`node dist/main.js`) in its own process, so the load generator never
// shares its event loop: a fresh data dir, a chosen port, logs to a file (as a container runtime
// would take stdout), and /proc readings for its memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../demo/free-port.js';

export const BENCH_SECRET = 'bench-webhook-secret-0123456789abcdef';
export const AUTH = `Basic ${Buffer.from(`alertmanager:${BENCH_SECRET}`).toString('base64')}`;

export interface ControllerProcess {
  url: string;
  pid: number;
  /** Spawn → first `/readyz` 200, in ms. */
  startupMs: number;
  /** What it logged so far. */
  log(): string;
  dataDir: string;
  /** Current resident set size in bytes. */
  rss(): number;
  /** Peak resident set size since start (VmHWM) in bytes. */
  peakRss(): number;
  /** CPU time (user + system) used so far, in ms. */
  cpuMs(): number;
  /** SIGTERM, wait for the exit, remove the temp dir. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ControllerOptions {
  /** YAML config; none means the built-in defaults. */
  config?: string;
  /** KUBECONFIG; none means no cluster (a path that does not exist). */
  kubeconfig?: string;
  /** Extra node flags, e.g. `--cpu-prof --cpu-prof-dir=...`. */
  nodeFlags?: string[];
  /** An existing data dir to start on (a restart); it is left in place on stop. */
  dataDir?: string;
  /** How long to wait for /readyz (default 15 s). */
  readyTimeoutMs?: number;
}

export const MAIN = resolve(import.meta.dirname, '../../dist/main.js');

function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** utime + stime from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function waitReady(url: string, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`controller exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`controller not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function startController(o: ControllerOptions = {}): Promise<ControllerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-bench-'));
  const dataDir = o.dataDir ?? join(dir, 'data');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir, // no ~/.kube/config from the machine
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    ROLLBACK_WEBHOOK_SECRET: BENCH_SECRET,
    ROLLBACK_DATA_DIR: dataDir,
    KUBECONFIG: o.kubeconfig ?? join(dir, 'no-cluster'),
    NODE_ENV: 'production',
  };
  if (o.config !== undefined) {
    env['ROLLBACK_CONFIG'] = join(dir, 'config.yaml');
    writeFileSync(env['ROLLBACK_CONFIG'], o.config);
  }
  const log = openSync(join(dir, 'controller.log'), 'a');
  const started = performance.now();
  const child = spawn(process.execPath, [...(o.nodeFlags ?? []), MAIN], {
    env,
    cwd: dir,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const url = `http://127.0.0.1:${env['PORT']}`;
  try {
    await waitReady(url, child, o.readyTimeoutMs ?? 15_000);
  } catch (err) {
    child.kill('SIGKILL');
    const logText = readFileSync(join(dir, 'controller.log'), 'utf8').slice(-2000);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${logText}`);
  }
  const startupMs = performance.now() - started;
  const pid = child.pid!;
  const logPath = join(dir, 'controller.log');
  return {
    log: () => readFileSync(logPath, 'utf8'),
    url,
    pid,
    startupMs,
    dataDir,
    rss: () => procStatusBytes(pid, 'VmRSS'),
    peakRss: () => procStatusBytes(pid, 'VmHWM'),
    cpuMs: () => procCpuMs(pid),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
