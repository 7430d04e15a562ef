// A small HTTPS JSON client for the test cluster's API server (CA-verified, bearer token): the
// harness's own requests (nodes, pod status, TokenRequest) and watches, without client-node.
import { request, type RequestOptions } from 'node:https';

export interface KubeHttp {
  /** JSON request; resolves with the status and parsed body (never throws on HTTP errors). */
  call(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: any }>;
  /** Like call, but throws unless the status is 2xx. */
  ok(method: string, path: string, body?: unknown, contentType?: string): Promise<any>;
  /**
   * Streams watch events of a path (`?watch=1` is added) to `onEvent` until `stop()`; re-lists
   * nothing itself: the caller passes the resourceVersion to start from.
   */
  watch(
    path: string,
    resourceVersion: string,
    onEvent: (type: string, object: any) => void,
    onEnd: (error?: Error) => void,
  ): { stop(): void };
}

export function kubeHttp(server: string, ca: string, token: string): KubeHttp {
  const base = new URL(server);
  const options = (method: string, path: string, headers: Record<string, string>) =>
    ({
      method,
      host: base.hostname,
      port: base.port,
      path,
      ca,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...headers },
    }) satisfies RequestOptions;

  const call: KubeHttp['call'] = (method, path, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        // An explicit length: node sends a DELETE body neither chunked nor sized by default,
        // and the API server would read none (DeleteOptions ignored).
        options(
          method,
          path,
          payload === undefined
            ? {}
            : {
                'content-type': contentType,
                'content-length': String(Buffer.byteLength(payload)),
              },
        ),
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON (healthz) */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  return {
    call,
    async ok(method, path, body, contentType) {
      const r = await call(method, path, body, contentType);
      if (r.status < 200 || r.status > 299)
        throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    watch(path, resourceVersion, onEvent, onEnd) {
      const sep = path.includes('?') ? '&' : '?';
      const full = `${path}${sep}watch=1&allowWatchBookmarks=false&resourceVersion=${resourceVersion}`;
      let ended = false;
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        onEnd(error);
      };
      const req = request(options('GET', full, {}), (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          end(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (!line.trim()) continue;
            const event = JSON.parse(line) as { type: string; object: any };
            onEvent(event.type, event.object);
          }
        });
        res.on('end', () => end());
        res.on('error', (e) => end(e));
      });
      req.on('error', (e) => end(e));
      req.end();
      return {
        stop() {
          ended = true;
          req.destroy();
        },
      };
    },
  };
}
