// POST /trigger end to end: every decision kind, every error status, and the answer time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alert, firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const CONFIG = `
rules:
  - { alert: CriticalErrorRate, trigger: error_rate_threshold, confidence: high }
  - { alert: RedisConnectionFailure, trigger: database_error, confidence: medium }
  - { alert: SlowButFine, trigger: latency_degradation, confidence: low }
  - { alert: ManualOnly, trigger: health_check_failure, confidence: high, autoRollback: false }
policy:
  allowedNamespaces: ["shop", "team-*"]
  circuitBreaker: { maxRollbacks: 3, windowSeconds: 600 }
`;

describe('POST /trigger decisions', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  let release: () => void = () => undefined;
  before(async () => {
    exec.gate = new Promise<void>((r) => (release = r));
    s = await startTestServer({ configText: CONFIG, executors: { kubernetes: exec } });
  });
  after(async () => {
    release();
    await s.close();
  });

  const send = async (...alerts: Array<Record<string, unknown>>) => {
    const res = await s.request('POST', 'trigger', payload(alerts));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.decisions as Array<{
      decision: string;
      reason: string;
      jobId?: string;
      alertname: string;
      fingerprint: string;
      status: string;
    }>;
  };

  test('queued → coalesced → duplicate; the job runs once', async () => {
    const a = firing('CriticalErrorRate', 'api', { fingerprint: 'aaa1' });
    const [q] = await send(a);
    assert.equal(q.decision, 'queued');
    assert.ok(q.jobId);
    const [c] = await send(
      firing('CriticalErrorRate', 'api', { fingerprint: 'aaa2', labels: { pod: 'api-2' } }),
    );
    assert.equal(c.decision, 'coalesced');
    assert.equal(c.jobId, q.jobId);
    const [d] = await send(a);
    assert.equal(d.decision, 'duplicate');
    assert.equal(d.jobId, q.jobId);
    await until(() => exec.executed().length === 1);
    const job = await s.request('GET', `jobs/${q.jobId}`);
    assert.equal(job.body.coalesced.length, 1);
    assert.equal(job.body.fromRevision, 7, 'the current revision was pinned');
  });

  test('each alert is decided on its own status and labels, in one payload', async () => {
    const decisions = await send(
      firing('CriticalErrorRate', 'web'),
      alert({
        alertname: 'CriticalErrorRate',
        status: 'resolved',
        labels: { namespace: 'shop', deployment: 'cart' },
      }),
      firing('RedisConnectionFailure', 'cache'),
      firing('SlowButFine', 'web2'),
      firing('ManualOnly', 'web3'),
      firing('NoSuchAlert', 'web4'),
      alert({
        alertname: 'CriticalErrorRate',
        labels: { namespace: 'billing', deployment: 'api' },
      }),
      alert({
        alertname: 'CriticalErrorRate',
        labels: { namespace: 'shop', deployment: 'x$(reboot)' },
      }),
    );
    assert.deepEqual(
      decisions.map((d) => d.decision),
      [
        'queued',
        'resolved',
        'awaiting_approval',
        'notify_only',
        'notify_only',
        'unmapped',
        'invalid_target',
        'invalid_target',
      ],
    );
    assert.deepEqual(
      Object.keys(decisions[0]).sort(),
      [
        'alertname',
        'confidence',
        'decision',
        'fingerprint',
        'jobId',
        'reason',
        'rule',
        'status',
        'target',
        'targetKey',
        'trigger',
      ].sort(),
    );
    assert.equal(decisions[1].status, 'resolved');
  });

  test('circuit breaker: a 4th rollback while 3 are pending is held back, the circuit not latched', async () => {
    // Two jobs exist already (api, web): one more target reaches the limit of 3. Behind the gate
    // only the running one has acted, so the next is held back without opening the circuit
    // (test/integration/circuit-breaker-counting.test.ts: acted rollbacks open it; resume).
    const [third] = await send(firing('CriticalErrorRate', 'svc-3'));
    assert.equal(third.decision, 'queued');
    const [fourth] = await send(firing('CriticalErrorRate', 'svc-4'));
    assert.equal(fourth.decision, 'circuit_open');
    assert.match(
      fourth.reason,
      /^this would be rollback 4 in the last 600s \(limit 3; 2 of them not acted yet\)/,
    );
    const [fifth] = await send(firing('CriticalErrorRate', 'svc-5'));
    assert.equal(fifth.decision, 'circuit_open');
    const status = await s.request('GET', 'status');
    assert.equal(status.body.circuit.open, false);
    assert.match(await (await fetch(`${s.url}/metrics`)).text(), /^rollback_circuit_open 0$/m);
    // circuit_open is not final: the same instance is decided again when re-sent.
    const [again] = await send(
      firing('CriticalErrorRate', 'svc-4', { fingerprint: String(fourth.fingerprint) }),
    );
    assert.equal(again.decision, 'circuit_open');
  });

  test('pause: new alerts are paused, survive as not-final, resume re-enables', async () => {
    assert.equal((await s.request('POST', 'pause', { reason: 'deploy freeze' })).status, 200);
    const a = firing('CriticalErrorRate', 'svc-p');
    const [p] = await send(a);
    assert.equal(p.decision, 'paused');
    await s.request('POST', 'resume');
    const [q] = await send(a);
    assert.equal(q.decision, 'queued');
  });

  test('cooldown after a rollback acted on the target', async () => {
    release();
    await until(
      async () =>
        (await s.request('GET', 'jobs?state=queued')).body.jobs.length === 0 &&
        (await s.request('GET', 'jobs?state=running')).body.jobs.length === 0,
    );
    const [c] = await send(
      firing('CriticalErrorRate', 'api', { fingerprint: 'aaa9', startsAt: '2026-11-22T11:00:00Z' }),
    );
    assert.equal(c.decision, 'cooldown');
    assert.match(c.reason, /cooldown ends in \d+s/);
  });
});

describe('POST /trigger errors change nothing', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      configText: 'http: { bodyLimitBytes: 65536 }',
    });
  });
  after(() => s.close());

  const post = (body: string, contentType = 'application/json') =>
    s.request('POST', 'trigger', body, { 'content-type': contentType });

  const bad: Array<[string, string, string | undefined, number, RegExp]> = [
    ['not JSON', '{"version": "4",', undefined, 400, /not valid JSON/],
    [
      'wrong version',
      JSON.stringify(payload([firing('CriticalErrorRate', 'api')], { version: '3' })),
      undefined,
      400,
      /unsupported payload version "3": send the Alertmanager webhook payload \(version "4"\) or the Grafana/,
    ],
    [
      'missing alerts',
      JSON.stringify({ version: '4', status: 'firing' }),
      undefined,
      400,
      /invalid/,
    ],
    [
      'alert without fingerprint',
      JSON.stringify(payload([{ status: 'firing', labels: { alertname: 'X' }, startsAt: 'now' }])),
      undefined,
      400,
      /invalid/,
    ],
    [
      'label value not a string',
      JSON.stringify(
        payload([
          {
            ...firing('CriticalErrorRate', 'api'),
            labels: { alertname: 'CriticalErrorRate', n: 1 },
          },
        ]),
      ),
      undefined,
      400,
      /invalid/,
    ],
    [
      '__proto__ label',
      `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"CriticalErrorRate","__proto__":"x"},"startsAt":"2026-01-01T00:00:00Z","fingerprint":"f"}]}`,
      undefined,
      400,
      /__proto__ are not accepted/,
    ],
    ['a JSON array', '[]', undefined, 400, /invalid/],
    ['form body', 'version=4', 'application/x-www-form-urlencoded', 415, /application\/json/],
    [
      'JSON sent as a form (curl -d without -H)',
      JSON.stringify(payload([firing('CriticalErrorRate', 'api')])),
      'application/x-www-form-urlencoded',
      415,
      /set the header 'content-type: application\/json'/,
    ],
    ['text body', 'hello', 'text/plain', 415, /application\/json/],
    [
      'over the body limit',
      JSON.stringify(
        payload([firing('CriticalErrorRate', 'api', { labels: { big: 'x'.repeat(70_000) } })]),
      ),
      undefined,
      413,
      /larger than the limit of 65536/,
    ],
  ];
  for (const [name, body, type, status, message] of bad) {
    test(`${name} → ${status}`, async () => {
      const res = await post(body, type);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.body.error, message);
      if (status === 400 && /invalid Alertmanager|unsupported payload/.test(res.body.error))
        assert.ok(Array.isArray(res.body.details) && res.body.details.length > 0);
      const jobs = await s.request('GET', 'jobs');
      assert.deepEqual(jobs.body.jobs, []);
    });
  }

  test('GET /trigger → 405 saying POST, with Allow: POST', async () => {
    for (const method of ['GET', 'PUT']) {
      const res = await s.request(method, 'trigger');
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
      assert.match(res.body.error, /\/trigger .*takes POST only/);
    }
  });

  test('extra unknown fields are accepted', async () => {
    const res = await post(
      JSON.stringify(
        payload([{ ...firing('CriticalErrorRate', 'api'), newField: { a: 1 } }], {
          somethingNew: true,
        }),
      ),
    );
    assert.equal(res.status, 202);
  });

  test('Alertmanager never sees 429: only 202/4xx/503 come back', async () => {
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /code="429"/);
  });
});

describe('answers fast whatever the rollout takes', () => {
  test('202 while the rollout has not finished (it never does in this test)', async () => {
    // The executor holds its job until the test ends: every answer arriving proves the webhook
    // never waits for a rollout, on a fast machine or a slow one (the latency is a bench figure).
    const exec = new RecordingExecutor();
    exec.gate = new Promise(() => undefined);
    const s = await startTestServer({
      executors: { kubernetes: exec },
      configText: 'policy: { circuitBreaker: { maxRollbacks: 100 } }',
      shutdownGraceMs: 100,
    });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await s.request(
          'POST',
          'trigger',
          payload([firing('CriticalErrorRate', `svc-${i}`)]),
        );
        assert.equal(res.status, 202);
        assert.equal(res.body.decisions[0].decision, 'queued');
      }
      await until(() => exec.executed().length === 1, 10_000, 'the first job started');
      const running = (await s.request('GET', 'jobs?state=running')).body.jobs;
      assert.equal(running.length, 1, 'the first rollout is still running');
    } finally {
      await s.close();
    }
  });
});

describe('request ids and the bounded queue', () => {
  test('X-Request-Id is echoed (or generated) and bound to the log lines', async () => {
    const s = await startTestServer({ executors: { kubernetes: new RecordingExecutor() } });
    try {
      const given = await s.request('GET', 'status', undefined, { 'x-request-id': 'am-retry-42' });
      assert.equal(given.headers.get('x-request-id'), 'am-retry-42');
      const generated = await s.request('GET', 'status', undefined, {
        'x-request-id': 'bad id with spaces',
      });
      assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.ok(s.logs.some((l) => l.includes('"requestId":"am-retry-42"')));
    } finally {
      await s.close();
    }
  });

  test('a full queue answers 503 (Alertmanager retries) and records nothing', async () => {
    const exec = new RecordingExecutor();
    exec.gate = new Promise(() => undefined);
    const s = await startTestServer({
      executors: { kubernetes: exec },
      configText: 'queue: { maxPending: 2 }\npolicy: { circuitBreaker: { maxRollbacks: 100 } }',
      shutdownGraceMs: 50,
    });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await s.request(
          'POST',
          'trigger',
          payload([firing('CriticalErrorRate', `svc-${i}`)]),
        );
        codes.push(r.status);
        // The first job leaves the queue for the (held) executor before the next alerts come.
        if (i === 0) await until(() => exec.executed().length === 1, 10_000, 'job 1 started');
      }
      // One job runs, two wait: the queue is full from the fourth on.
      assert.deepEqual(codes, [202, 202, 202, 503, 503]);
      assert.equal((await s.request('GET', 'jobs')).body.jobs.length, 3);
    } finally {
      await s.close();
    }
  });
});
