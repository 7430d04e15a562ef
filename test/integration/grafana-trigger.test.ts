// Grafana-managed alerts: the webhook contact point's own payload (version "1") on /trigger and
// /test, decided exactly as the same alerts from Alertmanager are; anything else Grafana could be
// made to send (another version, a custom payload template) is a 400 that says what to send.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alert, payload } from '../support/alerts.js';
import { grafanaAlert, grafanaFiring, grafanaPayload } from '../support/grafana-alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const CONFIG = `
rules:
  - { alert: CheckoutErrorRate, trigger: error_rate_threshold, confidence: high }
  - { alert: CheckoutSlow, trigger: latency_degradation, confidence: medium }
  - { alert: CheckoutNoise, trigger: latency_degradation, confidence: low }
policy:
  allowedNamespaces: ["shop"]
`;

type Decision = { alertname: string; fingerprint: string; status: string; decision: string };

describe('Grafana webhook contact point → /trigger', () => {
  let grafanaSide: TestServer;
  let alertmanagerSide: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    [grafanaSide, alertmanagerSide] = await Promise.all([
      startTestServer({ configText: CONFIG, executors: { kubernetes: exec } }),
      startTestServer({ configText: CONFIG, executors: { kubernetes: new RecordingExecutor() } }),
    ]);
  });
  after(async () => {
    await Promise.all([grafanaSide.close(), alertmanagerSide.close()]);
  });

  test('several alerts in one notification: each decided exactly as Alertmanager’s would be', async () => {
    const alerts = [
      grafanaFiring('CheckoutErrorRate', 'checkout', { fingerprint: 'a000000000000001' }),
      grafanaFiring('CheckoutSlow', 'cart', { fingerprint: 'a000000000000002' }),
      grafanaFiring('CheckoutNoise', 'search', { fingerprint: 'a000000000000003' }),
      grafanaFiring('CheckoutErrorRate', 'api', {
        fingerprint: 'a000000000000004',
        labels: { namespace: 'kube-system' },
      }),
      grafanaFiring('DiskAlmostFull', 'db', { fingerprint: 'a000000000000005' }),
      grafanaAlert({
        alertname: 'CheckoutErrorRate',
        status: 'resolved',
        fingerprint: 'a000000000000006',
        labels: { namespace: 'shop', deployment: 'old' },
      }),
    ];
    const fromGrafana = await grafanaSide.request('POST', 'trigger', grafanaPayload(alerts));
    assert.equal(fromGrafana.status, 202, JSON.stringify(fromGrafana.body));
    // The same alerts as Alertmanager would send them: only the envelope differs.
    const GRAFANA_ONLY = ['silenceURL', 'dashboardURL', 'panelURL', 'values'];
    const asAlertmanager = alerts.map((a) =>
      Object.fromEntries(Object.entries(a).filter(([k]) => !GRAFANA_ONLY.includes(k))),
    );
    const fromAlertmanager = await alertmanagerSide.request(
      'POST',
      'trigger',
      payload(asAlertmanager),
    );
    assert.equal(fromAlertmanager.status, 202, JSON.stringify(fromAlertmanager.body));

    const shape = (ds: Array<Decision & { jobId?: string }>) =>
      ds.map(({ jobId, ...d }) => ({ ...d, job: jobId !== undefined }));
    assert.deepEqual(shape(fromGrafana.body.decisions), shape(fromAlertmanager.body.decisions));
    assert.deepEqual(
      (fromGrafana.body.decisions as Decision[]).map((d) => d.decision),
      ['queued', 'awaiting_approval', 'notify_only', 'invalid_target', 'unmapped', 'resolved'],
    );
    await until(() => exec.executed().length === 1);
    const jobs = (await grafanaSide.request('GET', 'jobs')).body.jobs as Array<{
      alert: { alertname: string; generatorURL: string; startsAt: string };
      target: { name: string };
    }>;
    const job = jobs.find((j) => j.target.name === 'checkout');
    assert.ok(job, 'the Grafana alert created the job');
    assert.equal(job.alert.alertname, 'CheckoutErrorRate');
    assert.match(job.alert.generatorURL, /^https:\/\/grafana\.example\.com\/alerting\/grafana\//);
    assert.equal(job.alert.startsAt, '2026-11-22T11:00:03.157076+01:00');
  });

  test('the resolved notification closes the verification loop (recovered)', async () => {
    const startsAt = '2026-11-22T12:00:00.5+01:00';
    const firing = grafanaFiring('CheckoutErrorRate', 'payments', {
      fingerprint: 'b000000000000001',
      startsAt,
    });
    const res = await grafanaSide.request('POST', 'trigger', grafanaPayload([firing]));
    assert.equal(res.body.decisions[0].decision, 'queued');
    const id = res.body.decisions[0].jobId as string;
    await until(
      async () => (await grafanaSide.request('GET', `jobs/${id}`)).body.state === 'succeeded',
    );

    const resolved = grafanaAlert({
      alertname: 'CheckoutErrorRate',
      status: 'resolved',
      fingerprint: 'b000000000000001',
      startsAt,
      labels: { namespace: 'shop', deployment: 'payments' },
      values: null,
    });
    const closing = await grafanaSide.request('POST', 'trigger', grafanaPayload([resolved]));
    assert.equal(closing.status, 202);
    assert.equal(closing.body.decisions[0].decision, 'resolved');
    const job = (await grafanaSide.request('GET', `jobs/${id}`)).body;
    assert.equal(job.verdict, 'recovered');
  });

  test('the values map: numbers by refId, null and an empty map are all accepted', async () => {
    for (const values of [{ A: 12.5, B: 0.001, C: 1 }, {}, null]) {
      const body = grafanaPayload([grafanaFiring('DiskAlmostFull', 'db', { values })]);
      const res = await grafanaSide.request('POST', 'trigger', body);
      assert.equal(
        res.status,
        202,
        `values ${JSON.stringify(values)}: ${JSON.stringify(res.body)}`,
      );
      assert.equal(res.body.decisions[0].decision, 'unmapped');
    }
  });

  test("Grafana's contact point Test button: accepted and unmapped, nothing rolled back", async () => {
    const testAlert = grafanaAlert({
      alertname: 'TestAlert',
      labels: { instance: 'Grafana' },
      values: null,
    });
    const res = await grafanaSide.request('POST', 'trigger', grafanaPayload([testAlert]));
    assert.equal(res.status, 202);
    assert.equal(res.body.decisions[0].decision, 'unmapped');
  });
});

describe('what Grafana could be made to send instead: 400, nothing recorded', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      configText: CONFIG,
      executors: { kubernetes: new RecordingExecutor() },
    });
  });
  after(() => s.close());

  const cases: Array<[string, unknown, RegExp, string]> = [
    [
      'another version',
      grafanaPayload([grafanaFiring('CheckoutErrorRate', 'checkout')], { version: '2' }),
      /unsupported payload version "2": send the Alertmanager webhook payload \(version "4"\) or the Grafana webhook contact point's default payload \(version "1"\)/,
      'version',
    ],
    [
      'a custom payload template (no version)',
      { text: 'CheckoutErrorRate is firing for checkout', severity: 'critical' },
      /not a webhook payload \(no version field\): send the Alertmanager webhook payload/,
      'version',
    ],
    [
      'a custom template that keeps version "1" but drops the alerts',
      {
        version: '1',
        title: '[FIRING:1] checkout',
        message: 'CheckoutErrorRate',
        orgId: 1,
        status: 'firing',
      },
      /invalid Grafana webhook payload \(version "1"\): expected the contact point's default body .*if the contact point has a custom payload template, remove it/,
      'alerts',
    ],
    [
      'values that are not numbers',
      grafanaPayload([
        grafanaFiring('CheckoutErrorRate', 'checkout', { values: { A: 'high' } as never }),
      ]),
      /invalid Grafana webhook payload/,
      'alerts.0.values.A',
    ],
    [
      'no orgId',
      { ...grafanaPayload([grafanaFiring('CheckoutErrorRate', 'checkout')]), orgId: undefined },
      /invalid Grafana webhook payload/,
      'orgId',
    ],
  ];
  for (const [name, body, message, path] of cases) {
    test(`${name} → 400 naming ${path}`, async () => {
      const res = await s.request('POST', 'trigger', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.error, message);
      const paths = (res.body.details as Array<{ path: Array<string | number> }>).map((d) =>
        d.path.join('.'),
      );
      assert.ok(paths.includes(path), `details name ${path}: ${JSON.stringify(paths)}`);
      assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, []);
    });
  }

  test('/test answers the same 400 for a custom template body that claims version "1"', async () => {
    const res = await s.request('POST', 'test', { version: '1', alerts: [{ text: 'firing' }] });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /invalid Grafana webhook payload/);
  });
});

describe('Grafana payload on /test (dry run)', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    s = await startTestServer({ configText: CONFIG, executors: { kubernetes: exec } });
  });
  after(() => s.close());

  test('plans per alert, as for an Alertmanager payload; nothing created', async () => {
    const res = await s.request(
      'POST',
      'test',
      grafanaPayload([
        grafanaFiring('CheckoutErrorRate', 'checkout'),
        grafanaFiring('CheckoutSlow', 'cart'),
        alert({ alertname: 'DiskAlmostFull' }),
      ]),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.dryRun, true);
    const plans = res.body.plans as Array<{
      decision: string;
      target?: { name: string };
      fromRevision?: number;
    }>;
    assert.deepEqual(
      plans.map((p) => [p.decision, p.target?.name]),
      [
        ['queued', 'checkout'],
        ['awaiting_approval', 'cart'],
        ['unmapped', undefined],
      ],
    );
    assert.equal(plans[0]?.fromRevision, 7);
    assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, []);
    assert.deepEqual(exec.executed(), []);
  });
});
