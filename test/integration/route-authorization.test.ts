// From the attacker's side: a route is only what the route table says, byte for byte. Changing a
// path's case, adding a slash or escaping a letter reaches no handler (404 before any
// authentication), so Alertmanager's credential can never lift a pause or approve a job through a
// spelling the authorization check did not expect, and a cross-site page cannot reach an operator
// route through one either. Raw requests (node:net), so nothing normalises the request line.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
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

const WEBHOOK = basic('alertmanager', SECRET);
const OPERATOR = basic('operator', OPERATOR_SECRET);

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** One request exactly as written, on its own connection. */
function raw(
  url: string,
  requestLine: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<Raw> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(parts).toString();
      const [head = '', rest = ''] = text.split('\r\n\r\n');
      const [status = '', ...lines] = head.split('\r\n');
      const h: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        h[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      let parsed: unknown = rest;
      try {
        parsed = JSON.parse(rest);
      } catch {
        /* not JSON */
      }
      resolve({ status: Number(status.split(' ')[1]), headers: h, body: parsed });
    });
    const lines = Object.entries({
      Host: `127.0.0.1:${port}`,
      Connection: 'close',
      'Content-Length': String(Buffer.byteLength(body)),
      ...headers,
    }).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`${requestLine} HTTP/1.1\r\n${lines.join('')}\r\n${body}`);
  });
}

describe('routes decide authorization: exact paths only', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    s = await startTestServer({ executors: { kubernetes: exec } });
  });
  after(() => s.close());

  const paused = async () => (await s.request('GET', 'status')).body.paused.paused as boolean;

  test("Alertmanager's credential cannot resume through another spelling of /resume", async () => {
    const pause = await s.request('POST', 'pause', { reason: 'incident' });
    assert.equal(pause.status, 200);
    const spellings = [
      'POST /rollback/RESUME',
      'POST /rollback/Resume',
      'POST /api/admin/rollback/RESUME',
      'POST /ROLLBACK/resume',
      'POST /Api/Admin/Rollback/resume',
      'POST /rollback/resume/',
      'POST /rollback//resume',
      'POST /rollback/%72esume',
      'POST /rollback/resume;x',
    ];
    for (const line of spellings) {
      const res = await raw(s.url, line, { Authorization: WEBHOOK });
      assert.equal(res.status, 404, `${line}: ${JSON.stringify(res.body)}`);
      assert.equal(await paused(), true, `${line} changed nothing`);
    }
    // The real route still refuses Alertmanager's credential, and takes the operator's.
    const webhook = await raw(s.url, 'POST /rollback/resume', { Authorization: WEBHOOK });
    assert.equal(webhook.status, 401);
    assert.equal(await paused(), true);
    const operator = await raw(s.url, 'POST /rollback/resume', { Authorization: OPERATOR });
    assert.equal(operator.status, 200);
    assert.equal(await paused(), false);
  });

  test("Alertmanager's credential cannot approve through another spelling of /approve", async () => {
    const r = await s.request(
      'POST',
      'trigger',
      payload([firing('RedisConnectionFailure', 'cache')]),
    );
    assert.equal(r.body.decisions[0].decision, 'awaiting_approval');
    const id = r.body.decisions[0].jobId as string;
    for (const line of [
      `POST /rollback/jobs/${id}/APPROVE`,
      `POST /rollback/JOBS/${id}/approve`,
      `POST /rollback/jobs/${id}/approve/`,
      `POST /api/admin/rollback/jobs/${id}/Approve`,
    ]) {
      const res = await raw(s.url, line, { Authorization: WEBHOOK });
      assert.equal(res.status, 404, `${line}: ${JSON.stringify(res.body)}`);
    }
    const job = await s.request('GET', `jobs/${id}`);
    assert.equal(job.body.state, 'awaiting_approval', 'nobody approved it');
    assert.deepEqual(exec.executed(), [], 'nothing ran');
  });

  test('a cross-site text/plain or form POST reaches no operator route, whatever the spelling', async () => {
    for (const path of [
      '/rollback/PAUSE',
      '/rollback/Resume',
      '/rollback/pause',
      '/rollback/resume',
    ]) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
        const res = await raw(
          s.url,
          `POST ${path}`,
          {
            Authorization: OPERATOR,
            'Content-Type': type,
            Origin: 'https://evil.example',
            'Sec-Fetch-Site': 'cross-site',
          },
          'reason=x',
        );
        assert.ok([403, 404].includes(res.status), `${path} ${type}: ${res.status}`);
        assert.equal(await paused(), false, `${path} ${type} changed nothing`);
      }
    }
  });

  test('a known path with another method is 405 with Allow, before any credential', async () => {
    for (const [line, allow] of [
      ['GET /rollback/pause', 'POST'],
      ['GET /rollback/resume', 'POST'],
      ['GET /api/admin/rollback/jobs/job-1/approve', 'POST'],
      ['GET /rollback/trigger', 'POST'],
      ['PUT /rollback/test', 'POST'],
      ['DELETE /rollback/status', 'GET, HEAD'],
      ['POST /rollback/jobs', 'GET, HEAD'],
      ['POST /healthz', 'GET, HEAD'],
    ] as const) {
      const res = await raw(s.url, line);
      assert.equal(res.status, 405, `${line}: ${JSON.stringify(res.body)}`);
      assert.equal(res.headers['allow'], allow, line);
      assert.equal(typeof res.body.error, 'string');
    }
  });

  test('an unknown path is 404 before authentication, counted as unmatched', async () => {
    for (const line of [
      'POST /rollback/nothing',
      'GET /rollback',
      'GET /rollback/',
      'GET /HEALTHZ',
      'GET /healthz/',
    ]) {
      const res = await raw(s.url, line);
      assert.equal(res.status, 404, line);
      assert.equal(res.headers['www-authenticate'], undefined, `${line}: no credential was asked`);
    }
    const metrics = await raw(s.url, 'GET /metrics');
    assert.match(
      String(metrics.body),
      /rollback_webhook_requests_total\{route="unmatched",code="404"\}/,
    );
    assert.doesNotMatch(String(metrics.body), /route="[^"]*(RESUME|nothing)/);
  });
});
