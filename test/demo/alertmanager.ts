// A real Alertmanager (the Debian package's `prometheus-alertmanager`) routing every alert to the
// controller's webhook with basic_auth from a password file, short group timers and
// send_resolved, no clustering. Alerts go in through the v2 API, as Prometheus sends them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.js';

export const ALERTMANAGER_BIN = 'prometheus-alertmanager';

export function alertmanagerOnPath(): boolean {
  return spawnSync(ALERTMANAGER_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface RunningAlertmanager {
  url: string;
  version: string;
  /** POST /api/v2/alerts. */
  postAlerts(alerts: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startAlertmanager(o: {
  dir: string;
  webhookUrl: string;
  user: string;
  secret: string;
}): Promise<RunningAlertmanager> {
  const passwordFile = join(o.dir, 'webhook-secret');
  writeFileSync(passwordFile, `${o.secret}\n`, { mode: 0o600 });
  const config = {
    route: {
      receiver: 'rollback-controller',
      group_by: ['alertname', 'namespace', 'deployment'],
      group_wait: '1s',
      group_interval: '1s',
      repeat_interval: '4h',
    },
    receivers: [
      {
        name: 'rollback-controller',
        webhook_configs: [
          {
            url: o.webhookUrl,
            send_resolved: true,
            http_config: { basic_auth: { username: o.user, password_file: passwordFile } },
          },
        ],
      },
    ],
  };
  const configFile = join(o.dir, 'alertmanager.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const logFile = join(o.dir, 'alertmanager.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(o.dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}/`, // links in notifications
      '--cluster.listen-address=', // a single instance: no gossip port
      '--log.level=warn',
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  let version = '';
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`Alertmanager exited:\n${readFileSync(logFile, 'utf8').slice(-1500)}`);
    }
    try {
      const res = await fetch(`${url}/api/v2/status`);
      if (res.ok) {
        const status = (await res.json()) as { versionInfo?: { version?: string } };
        version = status.versionInfo?.version ?? '';
        break;
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Alertmanager not ready:\n${readFileSync(logFile, 'utf8').slice(-1500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    version,
    async postAlerts(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!res.ok)
        throw new Error(`Alertmanager refused the alert: ${res.status} ${await res.text()}`);
    },
    stop,
  };
}
