// A local stand-in for Slack's incoming-webhook endpoint: records what the real @slack/webhook
// client posts and answers as programmed (500, 429 with Retry-After, 400, or a hang), so tests
// exercise the real client over real HTTP on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the webhook client posted, as JSON (`{ raw }` when the body was not JSON). */
export interface SlackPayload {
  text?: string;
  channel?: string;
  username?: string;
  icon_emoji?: string;
  blocks?: Array<{
    type: string;
    text?: { type: string; text: string };
    fields?: Array<{ type: string; text: string }>;
    elements?: Array<{ type: string; text: string }>;
  }>;
  raw?: string;
  [key: string]: unknown;
}

export interface SinkRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: SlackPayload;
  /** 1-based count of requests received so far, this one included. */
  n: number;
}

export interface SinkResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering; Infinity hangs until the sink closes. */
  hangMs?: number;
}

export interface SlackSink {
  /** Webhook URL with a secret-looking path, like Slack's `/services/T…/B…/<token>`. */
  url: string;
  /** The secret part of the URL, to assert it never leaks. */
  token: string;
  /** Posts answered 2xx (once the answer is written): the messages that reached the channel. */
  messages: Array<{ body: SlackPayload; receivedAt: number }>;
  /** Every request as it arrives, with the status it is (or will be) answered with. */
  attempts: Array<{ body: SlackPayload; receivedAt: number; status: number }>;
  respondWith(fn: (req: SinkRequest) => SinkResponse | undefined): void;
  /** Resolves once `count` messages were delivered; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` requests arrived, whatever the answer. */
  waitForAttempts(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `host`: where it listens (default loopback; a real node's pods reach the bridge address). */
export async function startSlackSink(host = '127.0.0.1'): Promise<SlackSink> {
  const token = randomBytes(12).toString('hex');
  const messages: SlackSink['messages'] = [];
  const attempts: SlackSink['attempts'] = [];
  const waiters = new Set<() => void>();
  const hangs = new Set<NodeJS.Timeout>();
  let responder: (req: SinkRequest) => SinkResponse | undefined = () => undefined;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: SlackPayload;
      try {
        body = JSON.parse(raw) as SlackPayload;
      } catch {
        body = { raw }; // keep what was sent: the test will see it
      }
      const receivedAt = Date.now();
      const answer = responder({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        n: attempts.length + 1,
      }) ?? { status: 200, body: 'ok' };
      attempts.push({ body, receivedAt, status: answer.status });
      for (const w of waiters) w();
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? (answer.status < 300 ? 'ok' : 'error'));
        if (answer.status >= 200 && answer.status < 300) messages.push({ body, receivedAt });
        for (const w of waiters) w();
      };
      if (answer.hangMs === undefined || answer.hangMs <= 0) return reply();
      if (answer.hangMs === Infinity) return;
      const t = setTimeout(() => {
        hangs.delete(t);
        reply();
      }, answer.hangMs);
      hangs.add(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;

  const waitUntil = (done: () => boolean, what: () => string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`slack sink: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      waiters.add(check);
    });

  return {
    url: `http://${host}:${port}/services/T0SINK/B0SINK/${token}`,
    token,
    messages,
    attempts,
    respondWith(fn) {
      responder = (req) => fn(req);
    },
    waitFor: (count, timeoutMs = 5000) =>
      waitUntil(
        () => messages.length >= count,
        () => `${count} messages (have ${messages.length})`,
        timeoutMs,
      ),
    waitForAttempts: (count, timeoutMs = 5000) =>
      waitUntil(
        () => attempts.length >= count,
        () => `${count} requests (have ${attempts.length})`,
        timeoutMs,
      ),
    async close() {
      for (const t of hangs) clearTimeout(t);
      hangs.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
