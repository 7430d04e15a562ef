// The controller as a real child process (src/main.ts, compiled), to be killed with
// SIGKILL at chosen moments and restarted on the same data directory and port.
import { spawn, type ChildProcess } from 'node:child_process';
import { OPERATOR_SECRET, SECRET, basic } from '../../support/server.js';
import type { Call } from './cluster.js';
import { compiledEntry } from '../../support/compiled-entry.js';

export interface ControllerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output: () => string;
  call: Call;
  kill9(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export { freePort } from '../../demo/free-port.js';

export const AUTH = basic('alertmanager', SECRET);
/** approve and resume are a human's: they take the operator credential (contract.md "Authentication"). */
export const OPERATOR_AUTH = basic('operator', OPERATOR_SECRET);

export async function startControllerProcess(o: {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
  config?: string;
}): Promise<ControllerProcess> {
  const child = spawn(process.execPath, [compiledEntry('main')], {
    env: {
      ...process.env,
      PORT: String(o.port),
      HOST: '127.0.0.1',
      ROLLBACK_DATA_DIR: o.dataDir,
      ROLLBACK_WEBHOOK_SECRET: SECRET,
      ROLLBACK_OPERATOR_SECRET: OPERATOR_SECRET,
      LOG_LEVEL: 'info',
      ...(o.config ? { ROLLBACK_CONFIG: o.config } : {}),
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  await new Promise<void>((ok, fail) => {
    const timer = setInterval(() => {
      if (out.includes('"listening"')) {
        clearInterval(timer);
        ok();
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      fail(new Error(`controller exited with ${code} before listening:\n${out}`));
    });
  });
  const url = `http://127.0.0.1:${o.port}`;
  const call: Call = async (method, path, body) => {
    const full = path.startsWith('/') ? `${url}${path}` : `${url}/api/admin/rollback/${path}`;
    const res = await fetch(full, {
      method,
      headers: {
        authorization: /(^|\/)(approve|resume)$/.test(path) ? OPERATOR_AUTH : AUTH,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  };
  return {
    url,
    child,
    output: () => out,
    call,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
