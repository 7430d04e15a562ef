// A local Slack for the real @slack/web-api and @slack/socket-mode clients: the Web API methods
// the controller uses (chat.postMessage with message metadata, chat.update, chat.postEphemeral,
// conversations.history with include_all_metadata, usergroups.users.list,
// apps.connections.open) with Slack's real shapes (HTTP 200 `{ ok: false, error }` for errors,
// 429 with Retry-After), and a WebSocket server playing Socket Mode (`hello`, `interactive`
// envelopes, acks by envelope_id, `disconnect` and the client's reconnect). Faults are
// programmable per request; everything the clients sent is recorded.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export const BOT_TOKEN = 'xoxb-1111-2222-fake-bot-token';
export const APP_TOKEN = 'xapp-1-A111-3333-fake-app-token';
export const CHANNEL = 'C0DEPLOYS';

export interface ApiCall {
  method: string;
  args: Record<string, any>;
  /** What the fake answered: `ok`, an error code, or `http_<status>`. */
  answer: string;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: any[];
  /** Message metadata given on chat.postMessage (`event_type`, `event_payload`). */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Every version: the post, then each chat.update. */
  versions: Array<{ text: string; blocks: any[] }>;
}

export interface Fault {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Never answer (until the fake closes): a hanging Slack. */
  hang?: boolean;
  /** With `hang`: do what the call asks first (the message exists, the answer never comes). */
  apply?: boolean;
}

export interface FakeSlack {
  apiUrl: string;
  calls: ApiCall[];
  /** Channel messages and thread replies, in posting order. */
  messages: FakeMessage[];
  /** Top-level messages (not thread replies). */
  posts(): FakeMessage[];
  replies(ts: string): FakeMessage[];
  ephemerals: Array<{ channel: string; user: string; text: string }>;
  /** Answer the next requests with a fault (return undefined to answer normally). */
  failWith(
    fn: ((method: string, args: Record<string, any>) => Fault | undefined) | undefined,
  ): void;
  userGroups: Map<string, string[]>;
  socket: {
    /** Open Socket Mode connections. */
    readonly connections: number;
    /** apps.connections.open calls answered ok. */
    readonly opened: number;
    /** Resolves once at least `n` connections are open and greeted. */
    waitForConnections(n: number, ms?: number): Promise<void>;
    /** Sends an interactive envelope to every open connection; resolves with the ack. */
    interactive(payload: unknown, ms?: number): Promise<{ envelope_id: string; payload?: unknown }>;
    /** Asks every connection to reconnect, as Slack does when it recycles a host. */
    disconnectAll(): void;
  };
  waitFor(cond: () => boolean, ms?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

function parseBody(raw: string, type: string | undefined): Record<string, any> {
  if (type?.includes('application/json')) return raw ? JSON.parse(raw) : {};
  const out: Record<string, any> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // The client form-encodes arguments and JSON-encodes the structured ones.
    out[k] = k === 'blocks' || k === 'attachments' || k === 'metadata' ? JSON.parse(v) : v;
  }
  return out;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: ApiCall[] = [];
  const messages: FakeMessage[] = [];
  const ephemerals: FakeSlack['ephemerals'] = [];
  const userGroups = new Map<string, string[]>();
  const sockets = new Set<WebSocket>();
  const hanging = new Set<ServerResponse>();
  const pendingAcks = new Map<string, (ack: { envelope_id: string; payload?: unknown }) => void>();
  let fault: ((method: string, args: Record<string, any>) => Fault | undefined) | undefined;
  let seq = 0;
  let opened = 0;
  let greeted = 0;

  // Slack's ts: the Unix time of the message and a sequence (unique in the channel).
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
  const send = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  function answer(method: string, args: Record<string, any>, auth: string): Record<string, any> {
    const bearer = auth.replace(/^Bearer /, '');
    if (method === 'apps.connections.open') {
      if (bearer !== APP_TOKEN) return { ok: false, error: 'invalid_auth' };
      opened++;
      return { ok: true, url: `${wsBase}/link/?ticket=${randomUUID()}&app_id=A111` };
    }
    if (bearer !== BOT_TOKEN) return { ok: false, error: 'invalid_auth' };
    switch (method) {
      case 'chat.postMessage': {
        if (args['channel'] !== CHANNEL) return { ok: false, error: 'channel_not_found' };
        if (!args['text'] && !args['blocks']) return { ok: false, error: 'no_text' };
        if (args['thread_ts'] && !messages.some((m) => m.ts === args['thread_ts']))
          return { ok: false, error: 'thread_not_found' };
        const meta = args['metadata'];
        if (meta !== undefined && (typeof meta?.event_type !== 'string' || !meta.event_payload))
          return { ok: false, error: 'invalid_metadata_format' };
        const m: FakeMessage = {
          channel: CHANNEL,
          ts: nextTs(),
          text: String(args['text'] ?? ''),
          blocks: args['blocks'] ?? [],
          versions: [],
          ...(args['thread_ts'] ? { thread_ts: String(args['thread_ts']) } : {}),
          ...(meta ? { metadata: meta } : {}),
        };
        m.versions.push({ text: m.text, blocks: m.blocks });
        messages.push(m);
        return { ok: true, channel: CHANNEL, ts: m.ts, message: { text: m.text, ts: m.ts } };
      }
      case 'chat.update': {
        const m = messages.find((x) => x.channel === args['channel'] && x.ts === args['ts']);
        if (!m) return { ok: false, error: 'message_not_found' };
        m.text = String(args['text'] ?? '');
        m.blocks = args['blocks'] ?? [];
        m.versions.push({ text: m.text, blocks: m.blocks });
        return { ok: true, channel: m.channel, ts: m.ts, text: m.text };
      }
      case 'chat.postEphemeral':
        if (args['channel'] !== CHANNEL) return { ok: false, error: 'channel_not_found' };
        if (!args['user']) return { ok: false, error: 'user_not_in_channel' };
        ephemerals.push({
          channel: String(args['channel']),
          user: String(args['user']),
          text: String(args['text'] ?? ''),
        });
        return { ok: true, message_ts: nextTs() };
      case 'conversations.history': {
        // Slack's shape: top-level messages, newest first, `oldest` exclusive, paged by cursor;
        // metadata only with include_all_metadata.
        if (args['channel'] !== CHANNEL) return { ok: false, error: 'channel_not_found' };
        const oldest = Number(args['oldest'] ?? 0);
        const limit = Math.min(Number(args['limit'] ?? 100) || 100, 999);
        const offset = args['cursor']
          ? Number(Buffer.from(String(args['cursor']), 'base64').toString().replace('offset:', ''))
          : 0;
        const withMeta = ['true', '1', true].includes(args['include_all_metadata']);
        const all = messages
          .filter((x) => x.channel === CHANNEL && !x.thread_ts && Number(x.ts) > oldest)
          .reverse();
        const page = all.slice(offset, offset + limit);
        const more = offset + limit < all.length;
        return {
          ok: true,
          messages: page.map((x) => ({
            type: 'message',
            user: 'U0BOT',
            bot_id: 'B0BOT',
            text: x.text,
            ts: x.ts,
            blocks: x.blocks,
            ...(withMeta && x.metadata ? { metadata: x.metadata } : {}),
          })),
          has_more: more,
          pin_count: 0,
          channel_actions_ts: null,
          channel_actions_count: 0,
          response_metadata: {
            next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '',
          },
        };
      }
      case 'usergroups.users.list': {
        const users = userGroups.get(String(args['usergroup']));
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      let args: Record<string, any>;
      try {
        args = parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
      } catch {
        calls.push({ method, args: {}, answer: 'invalid_json' });
        return send(res, 200, { ok: false, error: 'invalid_json' });
      }
      const f = fault?.(method, args);
      if (f?.hang) {
        if (f.apply) answer(method, args, String(req.headers['authorization'] ?? ''));
        calls.push({ method, args, answer: 'hang' });
        hanging.add(res);
        return;
      }
      if (f) {
        const status = f.status ?? 200;
        const body = (f.body ?? {}) as { error?: string };
        calls.push({
          method,
          args,
          answer: status === 200 ? String(body.error) : `http_${status}`,
        });
        return send(res, status, f.body ?? {}, f.headers);
      }
      const result = answer(method, args, String(req.headers['authorization'] ?? ''));
      calls.push({ method, args, answer: result['ok'] ? 'ok' : String(result['error']) });
      send(res, 200, result);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  const wsBase = `ws://127.0.0.1:${port}`;

  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(Buffer.from(data as Buffer).toString('utf8')) as {
        envelope_id?: string;
        payload?: unknown;
      };
      if (msg.envelope_id) pendingAcks.get(msg.envelope_id)?.(msg as { envelope_id: string });
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A111' },
      }),
    );
    greeted++;
  });

  const waitFor = async (cond: () => boolean, ms = 20_000, what = 'condition') => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`fake Slack: ${what} not met within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    messages,
    posts: () => messages.filter((m) => !m.thread_ts),
    replies: (ts) => messages.filter((m) => m.thread_ts === ts),
    ephemerals,
    userGroups,
    failWith: (fn) => void (fault = fn),
    socket: {
      get connections() {
        return sockets.size;
      },
      get opened() {
        return opened;
      },
      waitForConnections: (n, ms) =>
        waitFor(() => sockets.size >= n && greeted >= n, ms, `${n} socket connections`),
      interactive(payload, ms = 20_000) {
        const envelope_id = randomUUID();
        const acked = new Promise<{ envelope_id: string; payload?: unknown }>((ok, fail) => {
          const timer = setTimeout(() => fail(new Error('interactive envelope not acked')), ms);
          pendingAcks.set(envelope_id, (ack) => {
            clearTimeout(timer);
            pendingAcks.delete(envelope_id);
            ok(ack);
          });
        });
        const envelope = {
          envelope_id,
          type: 'interactive',
          accepts_response_payload: false,
          payload,
        };
        for (const ws of sockets) ws.send(JSON.stringify(envelope));
        return acked;
      },
      disconnectAll() {
        for (const ws of sockets) {
          ws.send(
            JSON.stringify({
              type: 'disconnect',
              reason: 'refresh_requested',
              debug_info: { host: 'fake-slack' },
            }),
          );
        }
      },
    },
    waitFor,
    close: async () => {
      for (const res of hanging) res.destroy();
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** A block_actions payload as Slack sends it for a button click. */
export function blockActions(o: {
  actionId: string;
  jobId: string;
  user?: { id: string; username: string };
  messageTs?: string;
  responseUrl?: string;
}): Record<string, unknown> {
  const user = o.user ?? { id: 'U0ALICE', username: 'alice' };
  return {
    type: 'block_actions',
    team: { id: 'T111', domain: 'example' },
    user: { ...user, name: user.username, team_id: 'T111' },
    api_app_id: 'A111',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: o.messageTs ?? '1.1', channel_id: CHANNEL },
    trigger_id: '111.222.333',
    channel: { id: CHANNEL, name: 'deploys' },
    message: { ts: o.messageTs ?? '1.1', text: '' },
    response_url: o.responseUrl ?? 'https://hooks.slack.com/actions/T111/1/xyz',
    actions: [
      {
        type: 'button',
        action_id: o.actionId,
        block_id: 'rollback_job',
        value: o.jobId,
        action_ts: '1767225600.000001',
        text: { type: 'plain_text', text: 'x' },
      },
    ],
  };
}
