// Starts the real controller on 127.0.0.1:0 with its own data dir, and speaks to it with
// properly authenticated requests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startServer, type AppOptions, type RunningServer } from '../../src/app.js';
import { until } from './until.js';

export const SECRET = 'test-webhook-secret-0123456789';
export const OPERATOR_SECRET = 'test-operator-secret-9876543210';

export interface TestServer {
  url: string;
  dataDir: string;
  running: RunningServer;
  logs: string[];
  /** Authenticated JSON request under /api/admin/rollback (or an absolute path starting with /). */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /**
   * Resolves once no job is queued or running: from then on nothing acts until the next input
   * (jobs held for approval stay held). What "and nothing more happened" waits for, instead of a
   * sleep that a busy machine outlasts.
   */
  idle(ms?: number): Promise<void>;
  /** Resolves once the journal has no write pending or in flight. */
  journalSettled(): Promise<void>;
  close(): Promise<void>;
  /** Stop without cleanup, as if the process died: the data dir stays. */
  abandon(): Promise<void>;
}

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

export async function startTestServer(
  options: AppOptions & {
    env?: Record<string, string | undefined>;
    dataDir?: string;
    keepDataDir?: boolean;
    /** Bind address (default 127.0.0.1). */
    host?: string;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'rc-test-'));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const env: Record<string, string | undefined> = {
    ROLLBACK_WEBHOOK_SECRET: SECRET,
    ROLLBACK_OPERATOR_SECRET: OPERATOR_SECRET,
    ROLLBACK_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const running = await startServer({
    port: 0,
    host: '127.0.0.1',
    logDestination: destination,
    fsync: true,
    ...options,
    env,
  });
  const url = running.url;
  const auth = basic(env['ROLLBACK_WEBHOOK_USER'] ?? 'alertmanager', SECRET);
  // Approve and resume are a human's: the operator's credentials, as an operator would send them.
  const operator = basic(env['ROLLBACK_OPERATOR_USER'] ?? 'operator', OPERATOR_SECRET);
  const operatorOnly = /(^|\/)(resume|jobs\/[^/]+\/approve)$/;
  const request: TestServer['request'] = async (method, path, body, headers = {}) => {
    const full = path.startsWith('/') ? `${url}${path}` : `${url}/api/admin/rollback/${path}`;
    const res = await fetch(full, {
      method,
      headers: {
        authorization: operatorOnly.test(path) ? operator : auth,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined
        ? { body: typeof body === 'string' ? body : JSON.stringify(body) }
        : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON (metrics) */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    url,
    dataDir,
    running,
    logs,
    request,
    idle: (ms = 30_000) => {
      const { state, runner } = running.app.controller;
      return until(
        () => state.count('queued') === 0 && runner.inProgress === 0,
        ms,
        'no job queued or running',
      );
    },
    journalSettled: () => running.app.controller.journal.settled(),
    close: async () => {
      await running.close();
      if (!options.keepDataDir && !options.dataDir)
        rmSync(dataDir, { recursive: true, force: true });
    },
    abandon: async () => {
      running.server.closeAllConnections();
      await new Promise<void>((ok) => running.server.close(() => ok()));
      await running.app.controller.journal.close();
    },
  };
}
