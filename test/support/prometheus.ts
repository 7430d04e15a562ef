// The real Prometheus (Debian package `prometheus`, or a build given as `binary`) for end-to-end tests, plus the small pieces
// every Prometheus-ecosystem daemon needs in a test: a free loopback port, a child process that is
// always killed (even when the test process dies), and reading the text exposition format.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, portTaken } from '../demo/free-port.js';

export { freePort, portTaken };

// Children still running when the test process exits are killed, so a failed or interrupted
// test never leaves a daemon behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Daemon {
  pid: number;
  /** stdout and stderr lines, in order. */
  logs: string[];
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

export function missingBinary(bin: string, debianPackage: string): MissingBinaryError {
  return new MissingBinaryError(
    `${bin} is not on PATH: install the Debian package \`${debianPackage}\` (apt-get install ${debianPackage})`,
  );
}

/**
 * Starts `bin` and resolves once `readyUrl` answers 200. Rejects (after killing it) when the
 * process exits first or is not ready within `timeoutMs`; the error carries its log tail.
 */
export async function spawnDaemon(
  bin: string,
  args: string[],
  o: { debianPackage: string; readyUrl: string; timeoutMs?: number },
): Promise<Daemon> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const logs: string[] = [];
  const collect = (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((ok) => {
    child.once('exit', () => {
      live.delete(child);
      ok();
    });
    child.once('error', () => {
      live.delete(child);
      ok();
    });
  });
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (err) => (spawnError = err));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || spawnError) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    })());

  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (spawnError?.code === 'ENOENT') throw missingBinary(bin, o.debianPackage);
    if (gone || spawnError) {
      throw new Error(
        `${bin} exited before it was ready (${spawnError?.message ?? `code ${child.exitCode}`}):\n${logs.slice(-15).join('\n')}`,
      );
    }
    try {
      const res = await fetch(o.readyUrl, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${bin} was not ready at ${o.readyUrl} within ${o.timeoutMs ?? 15_000} ms:\n${logs.slice(-15).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { pid: child.pid ?? 0, logs, stop };
}

/**
 * The sum of every sample of `name` whose labels include `labels`, from Prometheus text format
 * (0 when there is none, as a counter that never moved is often not exported).
 */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      have.set(
        l[1] ?? '',
        (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)),
      );
    }
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

export interface ToolResult {
  code: number;
  output: string;
}

/** Runs a CLI of the Prometheus family; a missing binary fails with the Debian package to install. */
export function runTool(
  bin: string,
  args: string[],
  debianPackage: string,
  cwd?: string,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, timeout: 20_000 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e?.code === 'ENOENT') return reject(missingBinary(bin, debianPackage));
      resolve({ code: e ? Number(e.code ?? 1) || 1 : 0, output: `${stdout}${stderr}` });
    });
  });
}

export const promtool = (args: string[], cwd?: string) =>
  runTool('promtool', args, 'prometheus', cwd);

export interface PrometheusOptions {
  /** host:port targets scraped as job `app`. */
  scrapeTargets: string[];
  /** Labels on every scraped series, e.g. the `namespace` a ServiceMonitor target carries. */
  targetLabels?: Record<string, string>;
  /** Scraped labels win over target labels (the chart's ServiceMonitor sets honorLabels). */
  honorLabels?: boolean;
  /** host:port of Alertmanagers to send alerts to. */
  alertmanagers?: string[];
  /** Rule file contents, written next to the config. */
  ruleFiles?: Record<string, string>;
  /** Scrape and evaluation interval. Default 1s. */
  interval?: string;
  /** Scrape configs to use instead of the static `app` job (e.g. kubernetes_sd_configs). */
  scrapeConfigs?: object[];
  /**
   * The prometheus binary to run, with its own promtool next to it (default: Debian's on PATH,
   * which has no kubernetes_sd_configs; see test/support/built-prometheus.ts).
   */
  binary?: string;
}

export interface Prometheus {
  url: string;
  configText: string;
  logs: string[];
  /** GET /api/v1/alerts: the alerts the rules currently produce (pending or firing). */
  alerts(): Promise<
    Array<{ labels: Record<string, string>; state: string; annotations: Record<string, string> }>
  >;
  /** An instant query's vector result. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export function renderPrometheusConfig(o: PrometheusOptions): string {
  const interval = o.interval ?? '1s';
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: Object.keys(o.ruleFiles ?? {}),
    ...(o.alertmanagers?.length
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: o.alertmanagers }] }] } }
      : {}),
    scrape_configs: o.scrapeConfigs ?? [
      {
        job_name: 'app',
        ...(o.honorLabels ? { honor_labels: true } : {}),
        static_configs: [
          { targets: o.scrapeTargets, ...(o.targetLabels ? { labels: o.targetLabels } : {}) },
        ],
      },
    ],
  });
}

/** Starts `prometheus` on a free loopback port with a throwaway TSDB; validated by promtool first. */
export async function startPrometheus(o: PrometheusOptions): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-prom-'));
  try {
    const configText = renderPrometheusConfig(o);
    const configPath = join(dir, 'prometheus.yml');
    writeFileSync(configPath, configText);
    for (const [name, text] of Object.entries(o.ruleFiles ?? {}))
      writeFileSync(join(dir, name), text);
    const check = o.binary
      ? await runTool(
          join(dirname(o.binary), 'promtool'),
          ['check', 'config', configPath],
          'prometheus',
        )
      : await promtool(['check', 'config', configPath]);
    if (check.code !== 0) throw new Error(`promtool check config failed:\n${check.output}`);

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      try {
        const daemon = await spawnDaemon(
          o.binary ?? 'prometheus',
          [
            `--config.file=${configPath}`,
            `--storage.tsdb.path=${join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${port}`,
            // Generator URLs on alerts point here, not at the machine's hostname.
            `--web.external-url=${url}`,
            '--log.level=warn',
          ],
          { debianPackage: 'prometheus', readyUrl: `${url}/-/ready`, timeoutMs: 20_000 },
        );
        const api = async (path: string) => {
          const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
          const body = (await res.json()) as { status: string; data: any };
          if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
          return body.data;
        };
        return {
          url,
          configText,
          logs: daemon.logs,
          alerts: async () => (await api('/api/v1/alerts')).alerts,
          query: async (expr) =>
            (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
          stop: async () => {
            await daemon.stop();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch (err) {
        if (attempt < 3 && portTaken(err)) continue;
        throw err;
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
