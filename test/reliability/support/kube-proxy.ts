// A recording HTTP proxy in front of the fake Kubernetes API. It knows what the fake cannot
// tell: the status each request was really answered with (a request the client gave up on still
// lands), so "applied PATCHes" can be counted; and it can take the API away (connections
// refused and open ones cut) and bring it back on the same address with the cluster state kept,
// like an API server restart.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ProxiedRequest {
  method: string;
  path: string;
  dryRun: boolean;
  /** Upstream status, or 0 when the upstream dropped the connection. */
  status: number | undefined;
  /** When it arrived and when it was answered (ms since epoch). */
  at: number;
  answeredAt?: number;
}

export interface KubeProxy {
  url: string;
  kubeconfigPath: string;
  log: ProxiedRequest[];
  /** Called synchronously as each request arrives, before it is forwarded. */
  onRequest: ((r: ProxiedRequest) => void) | undefined;
  /** Called synchronously when the upstream answered, before the answer is passed on. */
  onResponse: ((r: ProxiedRequest) => void) | undefined;
  /** Non-dry-run PATCHes of the workload itself answered 2xx: patches that changed the cluster. */
  appliedPatches(name: string): number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startKubeProxy(upstream: string): Promise<KubeProxy> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  const log: ProxiedRequest[] = [];
  let port = 0;
  let server: Server | undefined;
  const proxy: KubeProxy = {
    url: '',
    kubeconfigPath: '',
    log,
    onRequest: undefined,
    onResponse: undefined,
    appliedPatches: (name) =>
      log.filter(
        (r) =>
          r.method === 'PATCH' &&
          !r.dryRun &&
          r.path.endsWith(`/${name}`) &&
          r.status !== undefined &&
          r.status >= 200 &&
          r.status < 300,
      ).length,
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((ok) => s.close(() => ok()));
      for (const sock of sockets) sock.destroy();
      await closed;
    },
    async up() {
      if (server) return;
      server = createServer(handle);
      server.on('connection', (sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
      const s = server;
      await new Promise<void>((ok, fail) => {
        s.once('error', fail);
        s.listen(port, '127.0.0.1', () => ok());
      });
      port = (s.address() as AddressInfo).port;
    },
    async close() {
      await proxy.down();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      dryRun: url.searchParams.get('dryRun') === 'All',
      status: undefined,
      at: Date.now(),
    };
    log.push(entry);
    proxy.onRequest?.(entry);
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        entry.status = upRes.statusCode ?? 0;
        entry.answeredAt = Date.now();
        proxy.onResponse?.(entry);
        if (res.destroyed) return void upRes.resume();
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      entry.status ??= 0;
      entry.answeredAt ??= Date.now();
      res.destroy();
    });
    req.pipe(up);
  }

  await proxy.up();
  proxy.url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'rc-rel-kube-'));
  proxy.kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    proxy.kubeconfigPath,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'proxy', cluster: { server: proxy.url, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'proxy', user: { token: 'fake-kube-token' } }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
      'current-context': 'proxy',
    }),
    { mode: 0o600 },
  );
  return proxy;
}
