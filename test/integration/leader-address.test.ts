// The Lease as an attacker who may update Leases in the controller's namespace (the built-in
// edit/admin roles can) sees it: whatever holder and URL they publish, a follower (the real
// HighAvailability and HTTP app against a fake API server) sends their sink nothing, no
// credential and no request, and answers 503 so Alertmanager retries. Only a holder whose
// signed address is its own pod's gets the forwarded request.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfigFromEnv } from '../../src/app.js';
import { RollbackController } from '../../src/controller.js';
import { connectKube } from '../../src/kube/connect-kube.js';
import { HighAvailability } from '../../src/ha/high-availability.js';
import { createKubeLeaseStore } from '../../src/ha/kube-lease-store.js';
import { signLeaderAddress } from '../../src/ha/leader-address.js';
import type { LeaseRecord } from '../../src/ha/lease-store.js';
import { createAuth } from '../../src/http/auth.js';
import { createHttpApp } from '../../src/http/create-http-app.js';
import {
  createForwardVerifier,
  FORWARD_SIGNATURE_HEADER,
} from '../../src/http/forward-signature.js';
import { replicaKey } from '../../src/http/replica-key.js';
import { silentNotifier } from '../../src/model/job-notifier.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { close, listen } from '../support/loopback-server.js';
import { basic, OPERATOR_SECRET, SECRET } from '../support/server.js';
import { until } from '../support/until.js';

const NS = 'rollback-system';
const KEY = replicaKey(SECRET, OPERATOR_SECRET)!;
/** The stand-in leader's process epoch, as it would publish it with its address. */
const EPOCH = 'e'.repeat(32);

describe('a follower forwards only to the leader it can verify', () => {
  let fake: FakeKube;
  let dir: string;
  let ha: HighAvailability;
  let controller: RollbackController;
  let follower: Server;
  let followerUrl: string;
  let sink: Server;
  let sinkUrl: string;
  let leader: Server;
  let leaderUrl: string;
  const sinkHits: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const leaderHits: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let store: ReturnType<typeof createKubeLeaseStore>;

  const pod = async (name: string, ip: string) => {
    const res = await fetch(`${fake.url}/api/v1/namespaces/${NS}/pods`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: 'rollback-controller' } },
        spec: { containers: [{ name: 'c', image: 'x' }] },
        status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
      }),
    });
    assert.equal(res.status, 201, await res.text());
  };

  /** What the attacker writes: any holder, URL and signature, held for an hour. */
  const publish = async (holder: string, url: string, signature?: string) => {
    const current = await store.get(5000);
    const next: LeaseRecord = {
      holderIdentity: holder,
      leaseDurationSeconds: 3600,
      leaseTransitions: (current?.leaseTransitions ?? 0) + 1,
      leaderUrl: url,
      ...(signature ? { leaderSignature: signature } : {}),
      ...(current?.resourceVersion ? { resourceVersion: current.resourceVersion } : {}),
    };
    if (current) await store.replace(next, 5000);
    else await store.create(next, 5000);
    await until(() => ha.elector.holder === holder && ha.elector.holderUrl === url, 8000, holder);
  };

  const trigger = (fingerprint: string) =>
    fetch(`${followerUrl}/api/admin/rollback/trigger`, {
      method: 'POST',
      headers: {
        authorization: basic('alertmanager', SECRET),
        'content-type': 'application/json',
      },
      body: JSON.stringify(payload([firing('CriticalErrorRate', 'api', { fingerprint })])),
    });

  /** The follower's answer once it has judged the address (503 while it is still checking). */
  const settled = async (fingerprint: string, judged: RegExp) => {
    let last: { status: number; error?: string } = { status: 0 };
    await until(
      async () => {
        const res = await trigger(fingerprint);
        last = { status: res.status, ...((await res.json()) as { error?: string }) };
        return !/checking the address/.test(last.error ?? '') && judged.test(String(last.error));
      },
      8000,
      `the follower's verdict on ${fingerprint}`,
    );
    return last;
  };

  before(async () => {
    fake = await startFakeKube();
    dir = mkdtempSync(join(tmpdir(), 'rc-leader-address-'));
    sink = createServer((req, res) => {
      sinkHits.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"decisions":[]}');
    });
    sinkUrl = await listen(sink);
    leader = createServer((req, res) => {
      leaderHits.push({ url: req.url ?? '', headers: req.headers });
      req.resume();
      req.on('end', () => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"from":"the leader"}');
      });
    });
    leaderUrl = await listen(leader);

    const kube = connectKube({ env: { KUBECONFIG: fake.kubeconfigPath }, requestTimeoutMs: 5000 });
    assert.ok('client' in kube);
    store = createKubeLeaseStore(kube.client, {
      namespace: NS,
      name: 'rollback-controller',
    });
    // Someone else holds the Lease from the start, so this replica stays a follower.
    await publish('nobody-yet', 'http://127.0.0.1:1').catch(() => undefined);
    const logger = pino({ enabled: false });
    ha = new HighAvailability({
      settings: {
        identity: 'follower-1',
        advertiseUrl: 'http://127.0.0.1:2',
        leaseNamespace: NS,
        leaseName: 'rollback-controller',
        leaseDurationMs: 60_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 100,
      },
      client: kube.client,
      cooldownMs: 0,
      key: KEY,
      logger,
    });
    ha.start();
    const { config, rules } = loadConfigFromEnv({});
    const metrics = createMetrics({ defaultMetrics: false });
    controller = new RollbackController({
      config,
      rules,
      dataDir: join(dir, 'data'),
      executors: {},
      notifier: silentNotifier,
      metrics,
      logger,
      leadership: ha,
    });
    await controller.open();
    const app = createHttpApp({
      controller,
      auth: createAuth({
        webhookUser: 'alertmanager',
        webhookSecret: SECRET,
        operatorUser: undefined,
        operatorSecret: OPERATOR_SECRET,
      }),
      metrics,
      logger,
      bodyLimitBytes: 1024 * 1024,
      leadership: ha,
    });
    follower = createServer(app);
    followerUrl = await listen(follower);
  });

  beforeEach(() => {
    sinkHits.length = 0;
    leaderHits.length = 0;
  });

  after(async () => {
    await ha.close();
    await controller.close();
    await close(follower);
    await close(sink);
    await close(leader);
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("an attacker's URL on the Lease, unsigned: no request and no credential reach it", async () => {
    await pod('evil', '127.0.0.1'); // even with a pod of that name at that address
    await publish('evil', sinkUrl);
    const answer = await settled('evil-1', /not signed/);
    assert.equal(answer.status, 503);
    assert.match(String(answer.error), /evil.*not signed with the replicas’ key.*retry/);
    assert.deepEqual(sinkHits, [], 'the sink saw nothing, so no credential and no 202');
  });

  test('a signature copied onto another URL does not verify', async () => {
    await pod('leader-0', '127.0.0.1');
    await publish('leader-0', sinkUrl, signLeaderAddress(KEY, 'leader-0', leaderUrl, EPOCH));
    const answer = await settled('copied-1', /not signed/);
    assert.equal(answer.status, 503);
    assert.deepEqual(sinkHits, []);
  });

  test('an old signed address replayed after its pod is gone or moved is refused', async () => {
    await publish('gone-0', sinkUrl, signLeaderAddress(KEY, 'gone-0', sinkUrl, EPOCH));
    const gone = await settled('gone-1', /names no pod/);
    assert.equal(gone.status, 503);
    await pod('moved-0', '10.9.8.7');
    await publish('moved-0', sinkUrl, signLeaderAddress(KEY, 'moved-0', sinkUrl, EPOCH));
    const moved = await settled('moved-1', /not its pod's address \(10\.9\.8\.7\)/);
    assert.equal(moved.status, 503);
    assert.deepEqual(sinkHits, []);
  });

  test("the real leader (signed, its own pod's address) gets the request, signed, without the caller's secret", async () => {
    await publish('leader-0', leaderUrl, signLeaderAddress(KEY, 'leader-0', leaderUrl, EPOCH));
    await until(async () => (await trigger('real-1')).status === 202, 8000, 'forwarded');
    const hit = leaderHits.at(-1);
    assert.ok(hit);
    assert.equal(hit.headers.authorization, undefined);
    const leaderProcess = { identity: 'leader-0', epoch: EPOCH };
    const verdict = createForwardVerifier(KEY, () => leaderProcess)(
      String(hit.headers[FORWARD_SIGNATURE_HEADER]),
      { method: 'POST', url: hit.url },
    );
    assert.ok(verdict.ok, JSON.stringify(verdict));
    // Signed for that leader process only: its restart (a new epoch) or another replica refuses it.
    const again = { method: 'POST', url: hit.url };
    const header = String(hit.headers[FORWARD_SIGNATURE_HEADER]);
    for (const other of [
      { identity: 'leader-0', epoch: 'c'.repeat(32) },
      { identity: 'follower-1', epoch: EPOCH },
    ])
      assert.deepEqual(createForwardVerifier(KEY, () => other)(header, again), {
        ok: false,
        reason: 'the forward signature is for another replica (or an earlier process of this one)',
      });
    assert.equal(verdict.claims.by, 'follower-1');
    assert.deepEqual(sinkHits, []);
  });
});
