// Every authentication path against the real server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  OPERATOR_SECRET,
  SECRET,
  basic,
  startTestServer,
  type TestServer,
} from '../support/server.js';

describe('authentication', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      env: { ROLLBACK_OPERATOR_USER: 'oncall', ROLLBACK_OPERATOR_SECRET: OPERATOR_SECRET },
    });
  });
  after(() => s.close());

  const get = (path: string, authorization?: string) =>
    fetch(`${s.url}${path}`, { headers: authorization ? { authorization } : {} });

  const accepted: Array<[string, string]> = [
    ['Basic user:password', basic('alertmanager', SECRET)],
    ['Bearer', `Bearer ${SECRET}`],
    ['raw Basic <secret> compatibility form', `Basic ${SECRET}`],
    ['operator Basic', basic('oncall', OPERATOR_SECRET)],
    ['lower-case scheme', `bearer ${SECRET}`],
  ];
  for (const [name, header] of accepted) {
    test(`accepts ${name} on both prefixes`, async () => {
      for (const prefix of ['/api/admin/rollback', '/rollback']) {
        const res = await get(`${prefix}/status`, header);
        assert.equal(res.status, 200, `${prefix}: ${await res.text()}`);
      }
    });
  }

  const rejected: Array<[string, string | undefined]> = [
    ['missing credentials', undefined],
    ['wrong password', basic('alertmanager', 'nope')],
    ['wrong user', basic('mallory', SECRET)],
    ['secret prefix', basic('alertmanager', SECRET.slice(0, -1))],
    ['wrong bearer', 'Bearer nope'],
    ['empty bearer', 'Bearer '],
    ['unknown scheme', `Digest ${SECRET}`],
    ['garbage', '\u0000\u0001'],
    ['over-long', `Bearer ${'x'.repeat(10_000)}`],
  ];
  for (const [name, header] of rejected) {
    test(`rejects ${name} with 401, WWW-Authenticate and a JSON error`, async () => {
      const res = await fetch(`${s.url}/rollback/trigger`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(header !== undefined ? { authorization: header } : {}),
        },
        body: JSON.stringify({ version: '4' }),
      }).catch((e: Error) => e);
      if (res instanceof Error) {
        // undici refuses to send some malformed header values; then nothing reached the server.
        assert.equal(name, 'garbage');
        return;
      }
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /Basic realm="rollback-controller"/);
      const body = (await res.json()) as { error: string };
      assert.equal(typeof body.error, 'string');
    });
  }

  test('a rejected request changes nothing: no decision, no job', async () => {
    const res = await fetch(`${s.url}/rollback/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' },
      body: JSON.stringify({ version: '4', status: 'firing', alerts: [] }),
    });
    assert.equal(res.status, 401);
    const jobs = await s.request('GET', 'jobs');
    assert.deepEqual(jobs.body.jobs, []);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /rollback_alerts_received_total\{/);
    assert.match(metrics, /rollback_webhook_requests_total\{route="trigger",code="401"\} \d/);
  });

  test("Alertmanager's credential can pause but never approve or resume", async () => {
    const post = (path: string, authorization: string) =>
      fetch(`${s.url}/rollback/${path}`, { method: 'POST', headers: { authorization } });
    const webhook = basic('alertmanager', SECRET);
    for (const path of ['resume', 'jobs/job-1/approve']) {
      for (const authorization of [webhook, `Bearer ${SECRET}`, `Basic ${SECRET}`]) {
        const res = await post(path, authorization);
        assert.equal(res.status, 401, `${path} with ${authorization.split(' ')[0]}`);
        assert.match(
          ((await res.json()) as { error: string }).error,
          /operator credentials required/,
        );
      }
    }
    // The operator's password under Alertmanager's user name is not the operator either.
    assert.equal((await post('resume', basic('alertmanager', OPERATOR_SECRET))).status, 401);
    assert.equal((await post('pause', webhook)).status, 200, 'pause, the safe direction');
    assert.equal((await s.request('GET', 'status')).body.paused.paused, true);
    assert.equal((await post('resume', basic('oncall', OPERATOR_SECRET))).status, 200);
    assert.equal((await post('pause', `Bearer ${OPERATOR_SECRET}`)).status, 200);
    assert.equal((await post('resume', `Bearer ${OPERATOR_SECRET}`)).status, 200);
    assert.equal((await s.request('GET', 'status')).body.paused.paused, false);
  });

  test('operator routes refuse cross-site browser requests and anything but JSON', async () => {
    const operator = basic('oncall', OPERATOR_SECRET);
    const attempts: Array<[string, Record<string, string>, string | undefined, number]> = [
      // An HTML form on another site, with the browser's cached Basic credentials.
      ['form post', { 'content-type': 'application/x-www-form-urlencoded' }, 'reason=pwned', 415],
      ['text/plain beacon', { 'content-type': 'text/plain' }, '{"reason":"x"}', 415],
      ['fetch no-cors from another site', { 'sec-fetch-site': 'cross-site' }, undefined, 403],
      ['a sibling subdomain', { 'sec-fetch-site': 'same-site' }, undefined, 403],
      ['foreign Origin', { origin: 'https://evil.example' }, undefined, 403],
      ['opaque Origin', { origin: 'null' }, undefined, 403],
    ];
    for (const [name, headers, body, status] of attempts) {
      const res = await fetch(`${s.url}/rollback/pause`, {
        method: 'POST',
        headers: { authorization: operator, ...headers },
        ...(body !== undefined ? { body } : {}),
      });
      assert.equal(res.status, status, name);
      assert.equal(typeof ((await res.json()) as { error: string }).error, 'string');
    }
    assert.equal((await s.request('GET', 'status')).body.paused.paused, false, 'nothing changed');
    const sameOrigin = await fetch(`${s.url}/rollback/pause`, {
      method: 'POST',
      headers: {
        authorization: operator,
        origin: s.url,
        'sec-fetch-site': 'same-origin',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ reason: 'from the same origin' }),
    });
    assert.equal(sameOrigin.status, 200);
    const resumed = await s.request('POST', 'resume', undefined, { authorization: operator });
    assert.equal(resumed.status, 200);
  });

  test('health, readiness and metrics need no credentials', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics'])
      assert.equal((await get(p)).status, 200, p);
  });

  test('no secret in any log line', () => {
    const all = s.logs.join('\n');
    assert.ok(s.logs.length > 5);
    assert.ok(!all.includes(SECRET) && !all.includes(OPERATOR_SECRET));
    assert.ok(!all.includes(Buffer.from(`alertmanager:${SECRET}`).toString('base64')));
  });
});

describe('no webhook secret configured', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { ROLLBACK_WEBHOOK_SECRET: undefined } });
  });
  after(() => s.close());

  test('protected routes answer 503 with an explanation; probes still work', async () => {
    const res = await fetch(`${s.url}/rollback/status`);
    assert.equal(res.status, 503);
    assert.match(
      ((await res.json()) as { error: string }).error,
      /ROLLBACK_WEBHOOK_SECRET is not set: set it or ROLLBACK_WEBHOOK_SECRET_FILE/,
    );
    const trig = await fetch(`${s.url}/rollback/trigger`, {
      method: 'POST',
      headers: { authorization: `Bearer anything` },
    });
    assert.equal(trig.status, 503);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  });
});

describe('secrets from *_FILE', () => {
  test('ROLLBACK_WEBHOOK_SECRET_FILE is read and a trailing newline ignored', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'rc-secret-'));
    writeFileSync(join(dir, 'secret'), 'from-a-file-secret\n');
    const s = await startTestServer({
      env: {
        ROLLBACK_WEBHOOK_SECRET: undefined,
        ROLLBACK_WEBHOOK_SECRET_FILE: join(dir, 'secret'),
      },
    });
    try {
      const ok = await fetch(`${s.url}/rollback/status`, {
        headers: { authorization: 'Bearer from-a-file-secret' },
      });
      assert.equal(ok.status, 200);
    } finally {
      await s.close();
    }
  });
});

describe('no operator secret configured', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { ROLLBACK_OPERATOR_SECRET: undefined } });
  });
  after(() => s.close());

  test('approve and resume answer 503 saying how to set one; pause still works', async () => {
    for (const path of ['resume', 'jobs/job-1/approve']) {
      const res = await s.request('POST', path, undefined, {
        authorization: basic('alertmanager', SECRET),
      });
      assert.equal(res.status, 503, path);
      assert.match(res.body.error, /set ROLLBACK_OPERATOR_SECRET or ROLLBACK_OPERATOR_SECRET_FILE/);
    }
    assert.equal((await s.request('POST', 'pause')).status, 200);
    const status = await s.request('GET', 'status');
    assert.equal(status.body.paused.paused, true, 'still paused: nobody could resume');
  });
});
