// A follower's HTTP app (the real createHttpApp, auth and controller) in front of a plain
// node:http server standing in for the leader: what is forwarded (never the caller's
// credentials; a signed header instead), where to (only the leader's origin and the API's own
// path), what is answered here, and how every failure becomes a 503 Alertmanager retries.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type Server,
} from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfigFromEnv } from '../../src/app.js';
import { RollbackController } from '../../src/controller.js';
import type { LeaderRoute, ReplicaLeadership } from '../../src/ha/replica-leadership.js';
import { createAuth } from '../../src/http/auth.js';
import {
  createForwardVerifier,
  FORWARD_SIGNATURE_HEADER,
  signForward,
} from '../../src/http/forward-signature.js';
import { replicaKey } from '../../src/http/replica-key.js';
import { createHttpApp } from '../../src/http/create-http-app.js';
import { silentNotifier } from '../../src/model/job-notifier.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { firing, payload } from '../support/alerts.js';
import { close, listen } from '../support/loopback-server.js';
import { basic, OPERATOR_SECRET, SECRET } from '../support/server.js';

const LIMIT = 1024 * 1024;
const WEBHOOK = basic('alertmanager', SECRET);
const OPERATOR = basic('oncall', OPERATOR_SECRET);
const KEY = replicaKey(SECRET, OPERATOR_SECRET)!;
/** The stand-in leader's identity and process epoch, as its Lease entry would publish them. */
const LEADER = { identity: 'leader-0', epoch: 'a'.repeat(32) };
/** The app under test, when it is the one that leads. */
const SELF = { identity: 'follower-1', epoch: 'b'.repeat(32) };
/** What the stand-in leader checks a forward against. */
const leaderVerifier = () => createForwardVerifier(KEY, () => LEADER);

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  complete: boolean;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A request with node:http, so the body can be streamed in chunks without a Content-Length. */
function send(
  url: string,
  o: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer; chunks?: Buffer[] } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    // The follower may answer 413 and stop reading while we still write.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    if (o.chunks) for (const c of o.chunks) req.write(c);
    req.end(o.body);
  });
}

/** A JSON document of exactly `size` bytes. */
function jsonOfSize(size: number): Buffer {
  const frame = '{"pad":""}';
  return Buffer.from(`{"pad":"${'x'.repeat(size - frame.length)}"}`);
}

/** What another replica would sign for a request it forwards to the app under test. */
function claims(method: string, path: string, body: Buffer | string = '') {
  return {
    method,
    path,
    bodySha256: sha256(body),
    at: Date.now(),
    by: 'follower-2',
    role: 'webhook' as const,
    user: 'alertmanager',
    to: SELF.identity,
    epoch: SELF.epoch,
  };
}
const forwarded = (method: string, path: string, body: Buffer | string = '') =>
  signForward(KEY, claims(method, path, body));

describe('forwarding from a follower to the leader', () => {
  let dir: string;
  let leader: Server;
  let leaderUrl: string;
  let follower: Server;
  let followerUrl: string;
  let impatient: Server;
  let impatientUrl: string;
  let controller: RollbackController;
  let deadUrl: string;
  const seen: Seen[] = [];
  let hang = false;
  let route: LeaderRoute;
  let standby: string | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-forward-'));
    leader = createServer((req, res) => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.alloc(0),
        complete: false,
      };
      seen.push(entry);
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        entry.body = Buffer.concat(parts);
        entry.complete = true;
        if (hang) return;
        res.writeHead(202, {
          'content-type': 'application/json',
          'x-leader-said': 'yes',
          'x-request-id': String(req.headers['x-request-id']),
        });
        res.end(JSON.stringify({ bytes: entry.body.length, sha256: sha256(entry.body) }));
      });
    });
    leaderUrl = await listen(leader);
    // A port nobody listens on any more.
    const gone = createServer();
    deadUrl = await listen(gone);
    await close(gone);

    const { config, rules } = loadConfigFromEnv({});
    const logger = pino({ enabled: false });
    const metrics = createMetrics({ defaultMetrics: false });
    const leadership: ReplicaLeadership = {
      ...SELF,
      route: () => route,
      standbyReason: () => standby,
      describe: () => (route.to === 'leader' ? `follower (forwarding to ${route.holder})` : 'x'),
      status: () => ({ enabled: true }),
    };
    controller = new RollbackController({
      config,
      rules,
      dataDir: join(dir, 'data'),
      executors: {},
      notifier: silentNotifier,
      metrics,
      logger,
      leadership,
    });
    await controller.open();
    const followerApp = (forwardTimeoutMs?: number) =>
      createHttpApp({
        controller,
        auth: createAuth(
          {
            webhookUser: 'alertmanager',
            webhookSecret: SECRET,
            operatorUser: 'oncall',
            operatorSecret: OPERATOR_SECRET,
          },
          { addressee: () => SELF },
        ),
        metrics,
        logger,
        bodyLimitBytes: LIMIT,
        leadership,
        ...(forwardTimeoutMs !== undefined ? { forwardTimeoutMs } : {}),
      });
    // The production forward timeout, so a busy machine relaying 1 MiB never hits it; the short
    // one only where the leader never answers, so it fires the same on any machine.
    follower = createServer(followerApp());
    followerUrl = await listen(follower);
    impatient = createServer(followerApp(300));
    impatientUrl = await listen(impatient);
  });

  beforeEach(() => {
    seen.length = 0;
    hang = false;
    route = { to: 'leader', holder: 'leader-0', url: leaderUrl, epoch: LEADER.epoch };
    standby = 'follower (leader is leader-0)';
  });

  after(async () => {
    await close(impatient);
    await close(follower);
    await close(leader);
    await controller.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("relays the leader's status, headers and body; sends method, path, query and headers", async () => {
    const body = Buffer.from(JSON.stringify(payload([firing('CriticalErrorRate', 'api')])));
    const res = await send(`${followerUrl}/api/admin/rollback/trigger`, {
      method: 'POST',
      headers: {
        authorization: WEBHOOK,
        'content-type': 'application/json',
        'x-request-id': 'req-123',
        'x-forwarded-for': '10.1.2.3',
      },
      body,
    });
    assert.equal(res.status, 202);
    assert.equal(res.headers['x-leader-said'], 'yes');
    assert.equal(res.headers['x-rollback-forwarded-to'], 'leader-0');
    assert.equal(res.headers['x-request-id'], 'req-123');
    assert.deepEqual(res.json, { bytes: body.length, sha256: sha256(body) });

    assert.equal(seen.length, 1);
    const [got] = seen;
    assert.equal(got?.method, 'POST');
    assert.equal(got?.url, '/api/admin/rollback/trigger');
    assert.equal(got?.headers.authorization, undefined, "the caller's credentials stay here");
    assert.equal(got?.headers['content-type'], 'application/json');
    assert.equal(got?.headers['x-request-id'], 'req-123');
    assert.equal(got?.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1');
    // What the leader checks: signed by a replica, for this very request, once.
    const verify = leaderVerifier();
    const header = String(got?.headers[FORWARD_SIGNATURE_HEADER]);
    const verdict = verify(header, { method: 'POST', url: '/api/admin/rollback/trigger' });
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.claims.by, 'follower-1');
    assert.equal(verdict.claims.role, 'webhook');
    assert.equal(verdict.claims.bodySha256, sha256(body));
    assert.deepEqual(verify(header, { method: 'POST', url: '/api/admin/rollback/trigger' }), {
      ok: false,
      reason: 'the forward signature was already used',
    });
    const otherKey = createForwardVerifier(replicaKey('guess', undefined)!, () => LEADER);
    assert.equal(otherKey(header, { method: 'POST', url: got?.url ?? '' }).ok, false);

    const jobs = await send(`${followerUrl}/rollback/jobs?limit=5&state=queued`, {
      headers: { authorization: WEBHOOK },
    });
    assert.equal(jobs.status, 202, "the leader's status, whatever it is");
    assert.equal(seen[1]?.method, 'GET');
    assert.equal(seen[1]?.url, '/api/admin/rollback/jobs?limit=5&state=queued');
  });

  test('probes and metrics are answered by the follower itself', async () => {
    const ready = await send(`${followerUrl}/readyz`);
    assert.equal(ready.status, 200, 'a follower is Ready');
    assert.deepEqual(ready.json.checks.leader, 'follower', 'no replica names unauthenticated');
    assert.equal((await send(`${followerUrl}/healthz`)).status, 200);
    const metrics = await send(`${followerUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /rollback_webhook_requests_total/);
    assert.equal(seen.length, 0);
  });

  test('never forwards without valid credentials (approve and resume need the operator)', async () => {
    const url = `${followerUrl}/api/admin/rollback/trigger`;
    const json = { 'content-type': 'application/json' };
    const none = await send(url, { method: 'POST', headers: json, body: Buffer.from('{}') });
    assert.equal(none.status, 401);
    assert.ok(none.headers['www-authenticate']);
    const wrong = await send(url, {
      method: 'POST',
      headers: { ...json, authorization: basic('alertmanager', 'not-the-secret') },
      body: Buffer.from('{}'),
    });
    assert.equal(wrong.status, 401);
    for (const path of ['resume', 'jobs/job-1/approve']) {
      const webhook = await send(`${followerUrl}/rollback/${path}`, {
        method: 'POST',
        headers: { authorization: WEBHOOK },
      });
      assert.equal(webhook.status, 401, path);
      assert.match(webhook.json.error, /operator credentials required/);
    }
    assert.equal(seen.length, 0, 'nothing reached the leader');

    const operatorResume = await send(`${followerUrl}/rollback/resume`, {
      method: 'POST',
      headers: { authorization: OPERATOR },
    });
    assert.equal(operatorResume.status, 202);
    const webhookPause = await send(`${followerUrl}/rollback/pause`, {
      method: 'POST',
      headers: { authorization: WEBHOOK },
    });
    assert.equal(webhookPause.status, 202, 'pause, the safe direction, takes either');
    assert.deepEqual(
      seen.map((r) => r.url),
      ['/api/admin/rollback/resume', '/api/admin/rollback/pause'],
    );
    const roles = seen.map((r) => leaderVerifier()(String(r.headers[FORWARD_SIGNATURE_HEADER]), r));
    assert.deepEqual(
      roles.map((v) => (v.ok ? v.claims.role : v.reason)),
      ['operator', 'webhook'],
    );
  });

  test('absolute-form targets and dot segments never leave for anywhere but the leader', async () => {
    // Somewhere an attacker would like the follower to reach (cloud metadata, a kubelet port).
    const sinkHits: string[] = [];
    const sink = createServer((req, res) => {
      sinkHits.push(`${req.method} ${req.url}`);
      res.end('secret metadata');
    });
    const sinkUrl = await listen(sink);
    const raw = (requestLine: string, body = '') =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(followerUrl).port), '127.0.0.1');
        const parts: Buffer[] = [];
        socket.on('data', (c: Buffer) => parts.push(c));
        socket.on('end', () => resolve(Buffer.concat(parts).toString()));
        socket.on('error', reject);
        socket.write(
          `${requestLine} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${OPERATOR}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
    try {
      const alerts = JSON.stringify(payload([firing('CriticalErrorRate', 'api')]));
      const absolute = await raw(`POST ${sinkUrl}/api/admin/rollback/trigger`, alerts);
      assert.match(absolute, /^HTTP\/1\.1 202/);
      assert.doesNotMatch(absolute, /secret metadata/);
      assert.equal(seen[0]?.url, '/api/admin/rollback/trigger', 'sent to the leader, by path');
      for (const line of [
        'GET /api/admin/rollback/jobs/../../../latest/meta-data',
        'GET /rollback/jobs/..',
        'POST /rollback/jobs/%2e%2e%2f%2e%2e%2fpause/approve',
        `GET ${sinkUrl}/rollback/jobs/..%2f..%2fmetrics`,
        'GET //169.254.169.254/latest/meta-data',
      ]) {
        const answer = await raw(line);
        assert.match(answer, /^HTTP\/1\.1 (404|400)/, line);
        assert.doesNotMatch(answer, /secret metadata/, line);
      }
      assert.deepEqual(sinkHits, [], 'the sink was never reached');
      assert.equal(seen.length, 1, 'nothing but the one API request reached the leader');
    } finally {
      await close(sink);
    }
  });

  test('a request that was already forwarded is never forwarded again', async () => {
    const res = await send(`${followerUrl}/api/admin/rollback/status`, {
      headers: { [FORWARD_SIGNATURE_HEADER]: forwarded('GET', '/api/admin/rollback/status') },
    });
    assert.equal(res.status, 503);
    assert.match(res.json.error, /^leader changed; retry \(follower-2 forwarded/);
    assert.equal(seen.length, 0);
  });

  test('a forged or replayed forward header is a 401, not a way in', async () => {
    const path = '/api/admin/rollback/status';
    const forged = signForward(replicaKey('guessed-secret', undefined)!, claims('GET', path));
    const bad = await send(`${followerUrl}${path}`, {
      headers: { [FORWARD_SIGNATURE_HEADER]: forged },
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error, 'invalid forward signature');
    const moved = await send(`${followerUrl}/api/admin/rollback/jobs`, {
      headers: { [FORWARD_SIGNATURE_HEADER]: forwarded('GET', path) },
    });
    assert.equal(moved.status, 401);
    assert.equal(moved.json.error, 'the forward signature is for another request');
    const stale = signForward(KEY, { ...claims('GET', path), at: Date.now() - 120_000 });
    const old = await send(`${followerUrl}${path}`, {
      headers: { [FORWARD_SIGNATURE_HEADER]: stale },
    });
    assert.equal(old.status, 401);
    assert.match(old.json.error, /expired/);
    assert.equal(seen.length, 0);
  });

  test('no leader known yet: 503, retry', async () => {
    route = { to: 'nobody', reason: 'no leader elected yet' };
    const res = await send(`${followerUrl}/api/admin/rollback/status`, {
      headers: { authorization: WEBHOOK },
    });
    assert.equal(res.status, 503);
    assert.equal(res.json.error, 'no leader elected yet; retry');
    const ready = await send(`${followerUrl}/readyz`);
    assert.equal(ready.status, 200, 'still Ready while the election runs');
  });

  test('a dead leader is a 503 that names it', async () => {
    route = { to: 'leader', holder: 'leader-0', url: deadUrl, epoch: LEADER.epoch };
    const res = await send(`${followerUrl}/api/admin/rollback/trigger`, {
      method: 'POST',
      headers: { authorization: WEBHOOK, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(payload([firing('CriticalErrorRate', 'api')]))),
    });
    assert.equal(res.status, 503);
    assert.match(res.json.error, /could not reach the leader leader-0 at .*ECONNREFUSED; retry/);
  });

  test('a leader that does not answer in time is a 503 (the request may have landed)', async () => {
    hang = true;
    const started = Date.now();
    const res = await send(`${impatientUrl}/api/admin/rollback/trigger`, {
      method: 'POST',
      headers: { authorization: WEBHOOK, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(payload([firing('CriticalErrorRate', 'api')]))),
    });
    const took = Date.now() - started;
    assert.equal(res.status, 503);
    assert.match(res.json.error, /did not answer within 0\.3 s; retry.*duplicate/);
    // The leader never answers: the 503 can only come from the 0.3 s timeout (no upper bound:
    // how late a busy machine fires it is not the behaviour under test).
    assert.ok(took >= 290, `answered after ${took} ms`);
    assert.equal(seen[0]?.complete, true, 'the leader did receive it');
  });

  test('a body at the limit goes through intact, with or without Content-Length', async () => {
    const body = jsonOfSize(LIMIT);
    const url = `${followerUrl}/api/admin/rollback/trigger`;
    const headers = { authorization: WEBHOOK, 'content-type': 'application/json' };
    const sized = await send(url, { method: 'POST', headers, body });
    assert.equal(sized.status, 202);
    assert.deepEqual(sized.json, { bytes: LIMIT, sha256: sha256(body) });
    const chunks = [body.subarray(0, 1000), body.subarray(1000, 700_000), body.subarray(700_000)];
    const streamed = await send(url, { method: 'POST', headers, chunks });
    assert.equal(streamed.status, 202);
    assert.deepEqual(streamed.json, { bytes: LIMIT, sha256: sha256(body) });
    assert.equal(seen[1]?.headers['content-length'], String(LIMIT), 'read whole, then signed');
  });

  test('a body over the limit is a 413 here, whether declared or streamed', async () => {
    const body = jsonOfSize(LIMIT + 1);
    const url = `${followerUrl}/api/admin/rollback/trigger`;
    const headers = { authorization: WEBHOOK, 'content-type': 'application/json' };
    const declared = await send(url, { method: 'POST', headers, body });
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error, `request body is larger than the limit of ${LIMIT} bytes`);
    assert.equal(seen.length, 0, 'a declared oversize body never leaves the follower');

    const streamed = await send(url, {
      method: 'POST',
      headers,
      chunks: [body.subarray(0, LIMIT / 2), body.subarray(LIMIT / 2)],
    });
    assert.equal(streamed.status, 413);
    assert.equal(
      seen.filter((s) => s.complete).length,
      0,
      'the leader never got a whole oversize request',
    );
  });

  test('a replica that leads serves locally, but acts only once it may', async () => {
    route = { to: 'self' };
    standby = 'taking over as leader (adopting pending jobs)';
    const alerts = Buffer.from(JSON.stringify(payload([firing('CriticalErrorRate', 'api')])));
    const early = await send(`${followerUrl}/api/admin/rollback/trigger`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [FORWARD_SIGNATURE_HEADER]: forwarded('POST', '/api/admin/rollback/trigger', alerts),
      },
      body: alerts,
    });
    assert.equal(early.status, 503);
    assert.match(early.json.error, /cannot act now: taking over as leader.*retry/);
    const pause = await send(`${followerUrl}/rollback/pause`, {
      method: 'POST',
      headers: { authorization: OPERATOR },
    });
    assert.equal(pause.status, 503, 'no pause while not leading');
    assert.equal(controller.state.jobs.size, 0);
    assert.equal(controller.state.paused, false);

    standby = undefined;
    const status = await send(`${followerUrl}/api/admin/rollback/status`, {
      headers: { [FORWARD_SIGNATURE_HEADER]: forwarded('GET', '/api/admin/rollback/status') },
    });
    assert.equal(status.status, 200, 'a forwarded request is served by the leader');
    assert.equal(status.headers['x-rollback-forwarded-to'], undefined);
    assert.equal(status.json.ready, true);
    assert.equal(seen.length, 0);
  });
});
