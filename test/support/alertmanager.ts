// The real Alertmanager (Debian package `prometheus-alertmanager`) for end-to-end tests: writes an
// alertmanager.yml routing severity="critical" to the controller's webhook the way the README
// recommends, validates it with `amtool check-config`, and runs the daemon on loopback, alone or
// in an HA cluster gossiping over 127.0.0.1.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  freePort,
  portTaken,
  runTool,
  sampleValue,
  spawnDaemon,
  type ToolResult,
} from './prometheus.js';

export interface AlertmanagerOptions {
  /** The controller's /trigger URL (or a proxy in front of it). */
  webhookUrl: string;
  /** Basic-auth user. Default `alertmanager`. */
  username?: string;
  /** The password file Alertmanager reads (`http_config.basic_auth.password_file`)... */
  passwordFile?: string;
  /** ...or the password itself, written to a file in the Alertmanager's temp dir. */
  password?: string;
  /** Default [alertname, namespace, deployment]. */
  groupBy?: string[];
  /** Defaults 1s / 2s / 1h: short enough for tests, no repeats unless a test asks. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Default true: resolved notifications close the controller's verification. */
  sendResolved?: boolean;
  /**
   * Per-request webhook timeout. Default 10s when the installed Alertmanager knows the field
   * (0.28+), omitted otherwise; `null` omits it.
   */
  webhookTimeout?: string | null;
  /**
   * A complete alertmanager.yml to run instead of the generated one (for example a README
   * example with its URLs pointed at the test's controllers); the webhook options are then unused.
   */
  configText?: string;
  /** HA: listen for gossip on a free loopback port and join these `host:port` peers. */
  cluster?: { peers: string[]; peerTimeout?: string; gossipInterval?: string };
}

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface Alertmanager {
  url: string;
  /** Gossip address (`127.0.0.1:port`) when clustered. */
  clusterAddress?: string;
  configPath: string;
  configText: string;
  logs: string[];
  /** POST /api/v2/alerts, as Prometheus does. */
  addAlert(
    labels: Record<string, string>,
    annotations?: Record<string, string>,
    times?: { startsAt?: Date | string; endsAt?: Date | string },
  ): Promise<void>;
  /** GET /api/v2/status (cluster peers and status among others). */
  status(): Promise<{
    cluster: { status: string; peers: Array<{ name: string; address: string }> };
  }>;
  metrics(): Promise<string>;
  /** Sum of the samples of `name` matching `labels` on /metrics. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** `amtool check-config FILE`. */
export function checkAlertmanagerConfig(path: string): Promise<ToolResult> {
  return runTool('amtool', ['check-config', path], 'prometheus-alertmanager');
}

let timeoutSupport: Promise<boolean> | undefined;

/**
 * Whether the installed Alertmanager accepts `webhook_configs[].timeout` (added in 0.28; Debian
 * bookworm ships 0.25, which rejects the field). Asked of amtool itself, once per process.
 */
export function webhookTimeoutSupported(): Promise<boolean> {
  return (timeoutSupport ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-amprobe-'));
    try {
      const path = join(dir, 'alertmanager.yml');
      writeFileSync(
        path,
        stringify({
          route: { receiver: 'r' },
          receivers: [
            { name: 'r', webhook_configs: [{ url: 'http://127.0.0.1:1/', timeout: '10s' }] },
          ],
        }),
      );
      const result = await checkAlertmanagerConfig(path);
      if (result.code === 0) return true;
      if (/field timeout not found/.test(result.output)) return false;
      throw new Error(`amtool check-config failed on the probe config:\n${result.output}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })());
}

/** The alertmanager.yml the tests run: a dedicated critical route to the controller's webhook. */
export function renderAlertmanagerConfig(
  o: AlertmanagerOptions & { passwordFile: string; webhookTimeout: string | null },
): string {
  return stringify({
    route: {
      receiver: 'default',
      routes: [
        {
          matchers: ['severity="critical"'],
          receiver: 'rollback-controller',
          group_by: o.groupBy ?? ['alertname', 'namespace', 'deployment'],
          group_wait: o.groupWait ?? '1s',
          group_interval: o.groupInterval ?? '2s',
          repeat_interval: o.repeatInterval ?? '1h',
          continue: true,
        },
      ],
    },
    receivers: [
      { name: 'default' },
      {
        name: 'rollback-controller',
        webhook_configs: [
          {
            url: o.webhookUrl,
            send_resolved: o.sendResolved ?? true,
            ...(o.webhookTimeout ? { timeout: o.webhookTimeout } : {}),
            http_config: {
              basic_auth: { username: o.username ?? 'alertmanager', password_file: o.passwordFile },
            },
          },
        ],
      },
    ],
  });
}

export async function startAlertmanager(o: AlertmanagerOptions): Promise<Alertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-am-'));
  try {
    let passwordFile = o.passwordFile;
    if (!passwordFile) {
      if (o.password === undefined) throw new Error('startAlertmanager: password or passwordFile');
      passwordFile = join(dir, 'webhook-secret');
      writeFileSync(passwordFile, `${o.password}\n`, { mode: 0o600 });
    }
    const webhookTimeout =
      o.webhookTimeout === null
        ? null
        : (await webhookTimeoutSupported())
          ? (o.webhookTimeout ?? '10s')
          : null;
    if (o.webhookTimeout && !webhookTimeout) {
      throw new Error(`this Alertmanager does not support webhook timeout (${o.webhookTimeout})`);
    }
    const configText =
      o.configText ?? renderAlertmanagerConfig({ ...o, passwordFile, webhookTimeout });
    const configPath = join(dir, 'alertmanager.yml');
    writeFileSync(configPath, configText);
    const check = await checkAlertmanagerConfig(configPath);
    if (check.code !== 0) throw new Error(`amtool check-config failed:\n${check.output}`);

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const clusterAddress = o.cluster ? `127.0.0.1:${await freePort()}` : undefined;
      const args = [
        `--config.file=${configPath}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--web.external-url=${url}`,
        '--log.level=debug',
      ];
      if (o.cluster && clusterAddress) {
        args.push(
          `--cluster.listen-address=${clusterAddress}`,
          `--cluster.advertise-address=${clusterAddress}`,
          `--cluster.peer-timeout=${o.cluster.peerTimeout ?? '15s'}`,
          `--cluster.gossip-interval=${o.cluster.gossipInterval ?? '50ms'}`,
          '--cluster.pushpull-interval=1s',
          ...o.cluster.peers.map((p) => `--cluster.peer=${p}`),
        );
      } else {
        args.push('--cluster.listen-address=');
      }
      try {
        const daemon = await spawnDaemon('prometheus-alertmanager', args, {
          debianPackage: 'prometheus-alertmanager',
          readyUrl: `${url}/-/ready`,
        });
        const get = async (path: string) => {
          const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
          if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
          return res;
        };
        const metrics = async () => (await get('/metrics')).text();
        const toIso = (t: Date | string) => (typeof t === 'string' ? t : t.toISOString());
        return {
          url,
          ...(clusterAddress ? { clusterAddress } : {}),
          configPath,
          configText,
          logs: daemon.logs,
          async addAlert(labels, annotations = {}, times = {}) {
            const alert: PostableAlert = {
              labels,
              annotations,
              generatorURL: 'http://prometheus.example:9090/graph',
              ...(times.startsAt ? { startsAt: toIso(times.startsAt) } : {}),
              ...(times.endsAt ? { endsAt: toIso(times.endsAt) } : {}),
            };
            const res = await fetch(`${url}/api/v2/alerts`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify([alert]),
              signal: AbortSignal.timeout(5000),
            });
            if (!res.ok) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
            await res.arrayBuffer();
          },
          status: async () => (await get('/api/v2/status')).json() as Promise<any>,
          metrics,
          metric: async (name, labels = {}) => sampleValue(await metrics(), name, labels),
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
