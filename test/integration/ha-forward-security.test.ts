// Two controller processes on one Lease, from an attacker's side of the forwarding between them:
// a forward captured on the wire is good for one leader process, once. Replayed to the same
// leader, to the other replica, to the next leader after a failover, or to the same pod
// restarted, it is refused.
// Each leader advertises its address through a recording relay of the test's (a legitimate
// ROLLBACK_ADVERTISE_URL: the same pod IP, another port), which is where the attacker listens.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { haFixture } from '../support/ha-fixture.js';
import { call, HANG_GUARD_MS, readyz, type Replica } from '../support/ha-replicas.js';
import { close, listen } from '../support/loopback-server.js';
import { until } from '../support/until.js';

const TEST_TIMEOUT_MS = 600_000;
const FORWARD_HEADER = 'x-rollback-forward-signature';

/** Relays to a replica, or (capturing) keeps the request and answers 503 like a dead leader. */
interface Relay {
  url: string;
  target: string;
  capturing: boolean;
  captured: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }>;
  server: Server;
}

async function relay(): Promise<Relay> {
  const r = { target: '', capturing: false, captured: [] } as unknown as Relay;
  r.server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (r.capturing) {
        r.captured.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
        });
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":"captured"}');
        return;
      }
      const up = request(`${r.target}${req.url ?? ''}`, {
        method: req.method ?? 'GET',
        headers: req.headers,
        agent: false,
      });
      up.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  r.url = await listen(r.server);
  return r;
}

/** Sends a captured request again, exactly as it was captured. */
async function replay(
  to: Replica,
  c: Relay['captured'][number],
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  // fetch sets the framing headers itself.
  const framing = new Set([
    'host',
    'connection',
    'keep-alive',
    'content-length',
    'transfer-encoding',
  ]);
  for (const [k, v] of Object.entries(c.headers))
    if (typeof v === 'string' && !framing.has(k)) headers[k] = v;
  const res = await fetch(`${to.url}${c.url}`, {
    method: c.method,
    headers,
    ...(c.body.length ? { body: new Uint8Array(c.body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

describe('high availability: forwards between replicas', () => {
  const relays = new Map<string, Relay>();
  const ha = haFixture({
    prefix: 'rc-ha-forward-',
    cleanUp: async () => {
      for (const r of relays.values()) await close(r.server);
    },
  });

  /** A replica that advertises itself through its own relay (kept across restarts). */
  async function start(name: string, lease: string): Promise<Replica> {
    let via = relays.get(name);
    if (!via) {
      via = await relay();
      relays.set(name, via);
    }
    const r = await ha.replicas.start(name, lease, { ROLLBACK_ADVERTISE_URL: via.url });
    via.target = r.url;
    return r;
  }

  async function pair(a: string, b: string, lease: string) {
    const [ra, rb] = await Promise.all([start(a, lease), start(b, lease)]);
    let leader: Replica | undefined;
    await until(
      async () => {
        for (const r of [ra, rb]) if ((await readyz(r)).leader === 'leader') leader = r;
        return leader !== undefined;
      },
      HANG_GUARD_MS,
      'a leader is elected',
    );
    const follower = leader === ra ? rb : ra;
    await forwardsTo(follower, leader!);
    return { leader: leader!, follower };
  }

  const forwardsTo = (from: Replica, to: Replica) =>
    until(
      async () =>
        (await call(from, 'GET', 'status')).headers.get('x-rollback-forwarded-to') === to.name,
      HANG_GUARD_MS,
      `${from.name} forwards to ${to.name}`,
    );

  const leads = (r: Replica) =>
    until(async () => (await readyz(r)).leader === 'leader', HANG_GUARD_MS, `${r.name} leads`);

  /** SIGTERM: a clean stop hands the Lease back, so the other replica takes over at once. */
  async function stop(r: Replica): Promise<void> {
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  }

  test(
    'a captured forward is good for one leader process, once',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { leader: first, follower: second } = await pair('rp-a', 'rp-b', 'replay');
      const paused = async (r: Replica) =>
        (await call(r, 'GET', 'status')).body.paused.paused as boolean;
      assert.equal((await call(second, 'POST', 'pause', { reason: 'incident' })).status, 200);

      // The operator resumes through the follower; the attacker on the path to the leader keeps
      // the forward (the follower answers 503, the operator would retry).
      const wire = relays.get(first.name)!;
      wire.capturing = true;
      const lost = await call(second, 'POST', 'resume');
      assert.equal(lost.status, 503);
      wire.capturing = false;
      const [captured] = wire.captured;
      assert.ok(captured?.headers[FORWARD_HEADER], 'a signed forward was captured');
      assert.equal(captured.headers.authorization, undefined, "never the operator's secret");

      // Another replica refuses it, whether it follows or, after a failover, leads.
      const atFollower = await replay(second, captured);
      assert.equal(atFollower.status, 401, JSON.stringify(atFollower.body));
      assert.match(atFollower.body.error, /for another replica/);
      await stop(first);
      await leads(second);
      const atNextLeader = await replay(second, captured);
      assert.equal(atNextLeader.status, 401, JSON.stringify(atNextLeader.body));
      assert.match(atNextLeader.body.error, /for another replica/);
      assert.equal(await paused(second), true, 'the pause held');

      // The same pod restarted (a new process) and leading again refuses it too.
      const restarted = await start(first.name, 'replay');
      await forwardsTo(restarted, second);
      await stop(second);
      await leads(restarted);
      const atRestarted = await replay(restarted, captured);
      assert.equal(atRestarted.status, 401, JSON.stringify(atRestarted.body));
      assert.match(atRestarted.body.error, /an earlier process of this one/);
      assert.equal(await paused(restarted), true, 'the pause held');

      // What the leader is sent now it accepts once; the same bytes again are refused.
      const third = await start('rp-c', 'replay');
      await forwardsTo(third, restarted);
      wire.capturing = true;
      assert.equal((await call(third, 'GET', 'status')).status, 503);
      wire.capturing = false;
      const fresh = wire.captured.at(-1)!;
      assert.equal((await replay(restarted, fresh)).status, 200, 'the genuine forward, once');
      const twice = await replay(restarted, fresh);
      assert.equal(twice.status, 401);
      assert.match(twice.body.error, /already used/);
      ha.passed();
    },
  );
});
