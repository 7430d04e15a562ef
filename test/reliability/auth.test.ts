// Credentials: wrong, missing, malformed and over-long ones get 401 and change nothing; a wrong
// secret takes as long whether it shares no or all-but-one leading characters; and no secret
// (webhook, operator, Slack URL) shows up in any log line, response, metric or Slack message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import {
  OPERATOR_SECRET,
  SECRET,
  basic,
  startTestServer,
  type TestServer,
} from '../support/server.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { until } from '../support/until.js';
import { Figures, quantile } from './support/figures.js';
import { LeakWatch } from './support/leaks.js';

const figures = new Figures('auth');
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('authentication', () => {
  let s: TestServer;
  let sink: SlackSink;
  const watch = new LeakWatch();

  before(async () => {
    sink = await startSlackSink();
    s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      configText: 'policy: { circuitBreaker: { maxRollbacks: 100 } }',
      env: {
        SLACK_WEBHOOK_URL: sink.url,
        ROLLBACK_OPERATOR_USER: 'oncall',
        ROLLBACK_OPERATOR_SECRET: OPERATOR_SECRET,
      },
    });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  /** A request with exactly these headers; the response is kept for the leak scan. */
  async function raw(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    watch.add(
      `${method} ${path} response`,
      `${res.status} ${JSON.stringify([...res.headers])} ${text}`,
    );
    return { status: res.status, text, headers: res.headers };
  }

  const received = async () => {
    const m = await raw('GET', '/metrics', {});
    return [...m.text.matchAll(/^rollback_alerts_received_total\{[^}]*\} (\d+)/gm)].reduce(
      (n, x) => n + Number(x[1]),
      0,
    );
  };

  test('wrong, missing, malformed and over-long credentials: 401, nothing happens', async () => {
    const cases: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['Basic, wrong password', basic('alertmanager', 'wrong')],
      ['Basic, wrong user', basic('someone', SECRET)],
      ['Basic, empty password', basic('alertmanager', '')],
      ['Basic, secret as the user', basic(SECRET, 'x')],
      ['Basic, operator user with the webhook secret', basic('oncall', SECRET)],
      ['Basic, secret plus a NUL', basic('alertmanager', `${SECRET}\u0000`)],
      ['raw Basic secret, wrong', `Basic ${'x'.repeat(SECRET.length)}`],
      ['raw Basic secret, one char more', `Basic ${SECRET}x`],
      ['raw Basic secret, one char less', `Basic ${SECRET.slice(0, -1)}`],
      ['Bearer, wrong', 'Bearer wrong'],
      ['Bearer, prefix of the secret', `Bearer ${SECRET.slice(0, -1)}`],
      ['Bearer, empty', 'Bearer '],
      ['Bearer, two tokens', `Bearer ${SECRET} ${SECRET}`],
      ['Bearer, base64 of user:secret', `Bearer ${b64(`alertmanager:${SECRET}`)}`],
      ['Basic, not base64', 'Basic !!!***'],
      ['Digest scheme', 'Digest username="alertmanager", response="x"'],
      ['no scheme, the bare secret', SECRET],
      ['5 KB Bearer token', `Bearer ${'a'.repeat(5000)}`],
      ['12 KB Basic token', `Basic ${b64(`alertmanager:${SECRET}${'a'.repeat(9000)}`)}`],
      ['the secret followed by 10 KB', `Bearer ${SECRET}${'a'.repeat(10_000)}`],
    ];
    const before = await received();
    for (const [i, [name, authorization]] of cases.entries()) {
      const body = payload([firing('CriticalErrorRate', 'api', { fingerprint: `auth${i}` })]);
      const r = await raw(
        'POST',
        '/api/admin/rollback/trigger',
        authorization ? { authorization } : {},
        body,
      );
      assert.equal(r.status, 401, `${name}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /Basic realm=.*Bearer/, name);
      assert.equal(typeof JSON.parse(r.text).error, 'string', name);
      const op = await raw('POST', '/rollback/pause', authorization ? { authorization } : {}, {});
      assert.equal(op.status, 401, `${name} on /pause`);
    }
    // The webhook credentials do not open the routes that make rollbacks happen.
    assert.equal(
      (await raw('POST', '/rollback/resume', { authorization: basic('alertmanager', SECRET) }, {}))
        .status,
      401,
    );
    assert.equal(await received(), before, 'no alert was even counted');
    assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, [], 'no job');
    assert.equal((await s.request('GET', 'status')).body.paused.paused, false, 'not paused');
    figures.add('credentials refused', 'cases', cases.length);
  });

  test('the accepted forms still work (Basic, Bearer, raw Basic secret, operator)', async () => {
    const forms = [
      basic('alertmanager', SECRET),
      `Bearer ${SECRET}`,
      `bearer ${SECRET}`,
      `Basic ${SECRET}`,
    ];
    for (const [i, authorization] of forms.entries()) {
      const body = payload([firing('CriticalErrorRate', `ok-${i}`, { fingerprint: `okauth${i}` })]);
      const r = await raw('POST', '/api/admin/rollback/trigger', { authorization }, body);
      assert.equal(r.status, 202, authorization.split(' ')[0]);
      assert.equal(JSON.parse(r.text).decisions[0].decision, 'queued');
    }
    const pause = await raw(
      'POST',
      '/rollback/pause',
      { authorization: basic('oncall', OPERATOR_SECRET) },
      { reason: 'auth test' },
    );
    assert.equal(pause.status, 200);
    const resume = await raw(
      'POST',
      '/rollback/resume',
      { authorization: `Bearer ${OPERATOR_SECRET}` },
      {},
    );
    assert.equal(resume.status, 200);
    await until(
      async () =>
        (await s.request('GET', 'jobs?state=succeeded')).body.jobs.length === forms.length,
    );
    await sink.waitFor(forms.length * 2, 10_000);
  });

  test('a wrong secret takes as long with 0 or all-but-one leading characters right', async () => {
    const none = `Bearer ${'#'.repeat(SECRET.length)}`;
    const almost = `Bearer ${SECRET.slice(0, -1)}#`;
    const basicNone = basic('alertmanager', '#'.repeat(SECRET.length));
    const basicAlmost = basic('alertmanager', `${SECRET.slice(0, -1)}#`);
    const time = async (authorization: string) => {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${s.url}/api/admin/rollback/status`, { headers: { authorization } });
      await res.arrayBuffer();
      assert.equal(res.status, 401);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let i = 0; i < 50; i++) await time(none); // warm up
    const samples = {
      none: [] as number[],
      almost: [] as number[],
      basicNone: [] as number[],
      basicAlmost: [] as number[],
    };
    for (let i = 0; i < 300; i++) {
      // Interleaved, so drift and neighbours' load hit both equally.
      samples.none.push(await time(none));
      samples.almost.push(await time(almost));
      samples.basicNone.push(await time(basicNone));
      samples.basicAlmost.push(await time(basicAlmost));
    }
    for (const [scheme, a, b] of [
      ['Bearer', samples.none, samples.almost],
      ['Basic', samples.basicNone, samples.basicAlmost],
    ] as const) {
      const [ma, mb] = [quantile(a, 0.5), quantile(b, 0.5)];
      figures.add(
        `timing (${scheme}, 300 each)`,
        'median: 0 / all-but-one chars match',
        `${ma.toFixed(3)} / ${mb.toFixed(3)} ms`,
      );
      // Generous: a byte-by-byte compare differs by far less than this over HTTP, so this bound
      // only catches gross leaks (early exit on a hashed or slow compare), not noise.
      const bound = Math.max(0.5, 0.25 * Math.min(ma, mb));
      assert.ok(
        Math.abs(ma - mb) < bound,
        `${scheme}: medians ${ma.toFixed(3)} vs ${mb.toFixed(3)} ms differ by more than ${bound.toFixed(3)} ms`,
      );
    }
  });

  test('no secret in any log line, response, metric or Slack message', async () => {
    // Give the scan material from every route, errors included.
    for (const path of ['/metrics', '/healthz', '/readyz', '/nope']) await raw('GET', path, {});
    for (const path of ['status', 'jobs', 'jobs/nope', 'jobs/nope/approve']) {
      const r = await s.request(path.endsWith('approve') ? 'POST' : 'GET', path);
      watch.add(`${path} response`, r.body);
    }
    const dry = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: 'shop', deployment: 'api' },
    });
    watch.add('dry run', dry.body);
    for (const a of sink.attempts) watch.add('slack body', a.body);
    for (const l of s.logs) watch.add('log', l);
    assert.ok(sink.attempts.length > 0 && s.logs.length > 20, 'there was material to scan');
    figures.add('leak scan', 'texts scanned (logs, responses, metrics, Slack)', watch.size);
    assert.deepEqual(
      watch.find({
        webhookSecret: SECRET,
        operatorSecret: OPERATOR_SECRET,
        basicToken: b64(`alertmanager:${SECRET}`),
        operatorBasicToken: b64(`oncall:${OPERATOR_SECRET}`),
        slackUrl: sink.url,
        slackToken: sink.token,
      }),
      [],
    );
  });
});
