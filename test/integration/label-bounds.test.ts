// From the attacker's side: whoever can send an alert controls its labels. They must not choose
// the rule by making a matcher unevaluable (an over-long value used to make a regex matcher "not
// hold", so a notify-only rule fell through to the broader auto-rollback one behind it), and
// must not keep the event loop busy with label maps no real alert has (ten parallel dry runs of
// one 40,000-label alert each stalled /healthz 2.3 s). Labels and annotations are bounded in
// count and size, and a payload over a bound is a 400 that names it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alertSchema, PAYLOAD_BOUNDS } from '../../src/alerts/payload-schema.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { decideAlert } from '../../src/decide/decide-alert.js';
import { firing, payload } from '../support/alerts.js';
import { probeEventLoop } from '../support/event-loop-probe.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';

const BOUND_MS = 1000;
// Payments alerts only notify; everything else of that name rolls back on its own.
const CONFIG = `
rules:
  - alert: CriticalErrorRate
    matchers: ['service=~"payments.*"']
    trigger: error_rate_threshold
    confidence: high
    autoRollback: false
  - alert: CriticalErrorRate
    trigger: error_rate_threshold
    confidence: high
`;

describe('labels are bounded; a matcher never passes an alert on', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    s = await startTestServer({ executors: { kubernetes: exec }, configText: CONFIG });
  });
  after(() => s.close());

  test('an over-long label value is a 400 naming the bound, never the next rule', async () => {
    const service = `payments${'x'.repeat(PAYLOAD_BOUNDS.labelValueChars)}`;
    const alert = firing('CriticalErrorRate', 'payments', { labels: { service } });
    const r = await s.request('POST', 'trigger', payload([alert]));
    assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
    assert.match(
      r.body.error,
      /alerts\.0\.labels\.service: label values are at most 4096 characters/,
    );
    assert.match(r.body.error, /Payload bounds/);
    const dry = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { service, namespace: 'shop', deployment: 'payments' },
    });
    assert.equal(dry.status, 400);
    assert.match(dry.body.error, /labels\.service: label values are at most 4096/);
    assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, [], 'no job');
    assert.deepEqual(exec.calls, []);
  });

  test('a matcher that cannot be evaluated decides invalid_target with why', () => {
    // Below the HTTP layer too: the decision never falls through, whoever builds the alert.
    const r = parseConfigText(CONFIG, {});
    assert.ok(r.ok);
    const long = alertSchema.safeParse({
      status: 'firing',
      labels: { alertname: 'CriticalErrorRate', service: `payments${'x'.repeat(5000)}` },
      startsAt: '2026-11-22T11:59:00Z',
      fingerprint: 'f1',
    });
    assert.equal(long.success, false, 'the schema refuses it');
    const d = decideAlert(
      {
        status: 'firing',
        labels: {
          alertname: 'CriticalErrorRate',
          service: `payments${'x'.repeat(5000)}`,
          namespace: 'shop',
          deployment: 'payments',
        },
        annotations: {},
        startsAt: '2026-11-22T11:59:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: '',
        fingerprint: 'f1',
      },
      Date.parse('2026-11-22T12:00:00Z'),
      r.rules,
      r.config.policy,
      {
        paused: false,
        circuitOpen: false,
        instance: () => undefined,
        activeJob: () => undefined,
        lastActionAt: () => undefined,
        rollbacksSince: () => 0,
      },
    );
    assert.equal(d.decision.decision, 'invalid_target');
    assert.match(d.decision.reason, /cannot be evaluated: label service is 5008 characters/);
    assert.equal(d.effect.kind, 'none');
  });

  test('too many labels or annotations: a 400 naming the bound, for every form', async () => {
    const many = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'v']));
    const over = PAYLOAD_BOUNDS.labels + 1;
    const labels = firing('CriticalErrorRate', 'api', { labels: many(over) });
    const r = await s.request('POST', 'trigger', payload([labels]));
    assert.equal(r.status, 400);
    assert.match(r.body.error, /alerts\.0\.labels: at most 128 labels per map \(got 13\d\)/);
    const annotations = { ...firing('CriticalErrorRate', 'api'), annotations: many(over) };
    const a = await s.request('POST', 'trigger', payload([annotations]));
    assert.equal(a.status, 400);
    assert.match(a.body.error, /alerts\.0\.annotations: at most 128 annotations per map/);
    const common = await s.request(
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', 'api')], { commonLabels: many(over) }),
    );
    assert.equal(common.status, 400);
    assert.match(common.body.error, /commonLabels: at most 128 labels/);
    const dry = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: many(over),
    });
    assert.equal(dry.status, 400);
    assert.match(dry.body.error, /labels: at most 128 labels per map/);
    // At the bound it is accepted.
    const fine = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { ...many(PAYLOAD_BOUNDS.labels - 1) },
    });
    assert.equal(fine.status, 200, JSON.stringify(fine.body).slice(0, 300));
  });

  // The attack, kept to five requests: parsing a body near the 1 MiB limit is a floor the
  // old and the new code share (about 25 ms each on an idle machine; the old code took about
  // twice that per request, then carried the labels into jobs, logs and messages). The refusal
  // above is what fails on the old code; this bound guards that nothing after the parse scales.
  test('parallel dry runs of 40,000-label alerts never block the event loop for 1 s', async () => {
    const labels = Object.fromEntries(
      Array.from({ length: 40_000 }, (_, i) => [`l${i}`, String(i)]),
    );
    const body = JSON.stringify({ alert_name: 'CriticalErrorRate', labels });
    const probe = probeEventLoop();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => s.request('POST', 'test', body)),
    );
    const lag = probe.stop();
    for (const a of answers) assert.equal(a.status, 400);
    assert.ok(lag < BOUND_MS, `the event loop was blocked ${Math.round(lag)} ms`);
  });
});
