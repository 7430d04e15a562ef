// A recording HTTP proxy between Alertmanager and the controller: every notification Alertmanager
// sends and every answer it gets (the controller's decisions) are kept for the test to assert,
// and a test can answer some requests itself (a 503 to provoke Alertmanager's retry).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  n: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON request body (the Alertmanager payload), or the raw text. */
  payload: any;
  status: number;
  /** Parsed JSON answer (`{ decisions }` from /trigger), or the raw text. */
  answer: any;
  /** Answered by the proxy itself rather than the controller. */
  intercepted: boolean;
  at: number;
}

export type Interception = { status: number; body: unknown } | { delayMs: number };

export interface WebhookProxy {
  /** Base URL; append the controller's path. */
  url: string;
  exchanges: Exchange[];
  /**
   * Per request `n` (1-based): answer it here (`status`, `body`), forward it after `delayMs`, or
   * forward it at once (undefined).
   */
  intercept(
    fn: (n: number, req: { method: string; path: string }) => Interception | undefined,
  ): void;
  /** Resolves once `count` exchanges completed; rejects after `timeoutMs` with what arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export async function startWebhookProxy(target: string): Promise<WebhookProxy> {
  const exchanges: Exchange[] = [];
  const waiters = new Set<() => void>();
  let seen = 0;
  let interceptor: Parameters<WebhookProxy['intercept']>[0] = () => undefined;

  const record = (e: Exchange) => {
    exchanges.push(e);
    for (const w of waiters) w();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const n = ++seen;
        const body = Buffer.concat(chunks);
        const base = {
          n,
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          payload: parse(body.toString('utf8')),
          at: Date.now(),
        };
        const own = interceptor(n, { method: base.method, path: base.path });
        if (own && 'delayMs' in own) await new Promise((r) => setTimeout(r, own.delayMs));
        else if (own) {
          const text = JSON.stringify(own.body);
          res.writeHead(own.status, { 'content-type': 'application/json' });
          res.end(text);
          return record({ ...base, status: own.status, answer: own.body, intercepted: true });
        }
        try {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) {
            if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k))
              headers[k] = v;
          }
          const upstream = await fetch(`${target}${base.path}`, {
            method: base.method,
            headers,
            ...(body.length ? { body } : {}),
            signal: AbortSignal.timeout(10_000),
          });
          const text = await upstream.text();
          res.writeHead(upstream.status, {
            'content-type': upstream.headers.get('content-type') ?? 'text/plain',
            ...(upstream.headers.get('www-authenticate')
              ? { 'www-authenticate': upstream.headers.get('www-authenticate') ?? '' }
              : {}),
          });
          res.end(text);
          record({ ...base, status: upstream.status, answer: parse(text), intercepted: false });
        } catch (err) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(err));
          record({ ...base, status: 502, answer: String(err), intercepted: true });
        }
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    intercept(fn) {
      interceptor = fn;
    },
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (exchanges.length >= count) return resolve();
        const check = () => {
          if (exchanges.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `webhook proxy: ${exchanges.length} of ${count} notifications within ${timeoutMs} ms: ` +
                JSON.stringify(exchanges.map((e) => ({ status: e.status, answer: e.answer }))),
            ),
          );
        }, timeoutMs);
        waiters.add(check);
      }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
