// The example application rules (charts/rollback-controller/files/example-app-rules.yaml) through
// the real promtool, then the whole chain with no hand-sent alert: a real Prometheus scrapes a
// tiny application whose error rate the test raises, evaluates the shipped CriticalErrorRate
// expression, sends the alert to a real Alertmanager, which notifies the controller, which rolls
// the Deployment back on the fake cluster; when the errors stop, the resolved alert closes the
// rollback's verification as `recovered`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { startAlertmanager } from '../support/alertmanager.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { promtool, startPrometheus } from '../support/prometheus.js';
import { SPEC_RULES } from '../support/spec-rules.js';
import { until } from '../support/until.js';
import {
  cleanup,
  decisions,
  deployV1ThenV2,
  imageOf,
  jobWhen,
  NAMESPACE,
  rolledBack,
  SECRET,
  startController,
  templatePatches,
} from './stack.js';

const root = resolve(import.meta.dirname, '..', '..');
const rulesRel = join('charts', 'rollback-controller', 'files', 'example-app-rules.yaml');
const unitRel = join('test', 'fixtures', 'prometheus', 'example-app-rules.test.yaml');
const rulesText = readFileSync(join(root, rulesRel), 'utf8');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
type RuleFile = { groups: Array<{ name: string; rules: AlertRule[] }> };
const shipped = parse(rulesText) as RuleFile;
const rules = shipped.groups.flatMap((g) => g.rules);

const dir = mkdtempSync(join(tmpdir(), 'rc-promtest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('example-app-rules.yaml', () => {
  test('promtool check rules accepts it', async () => {
    const result = await promtool(['check', 'rules', rulesRel], root);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: 7 rules found/);
  });

  test("has SPEC's critical alerts, each critical and keeping namespace and deployment", () => {
    assert.deepEqual(
      rules.map((r) => r.alert),
      SPEC_RULES.map(([alert]) => alert),
    );
    for (const rule of rules) {
      assert.equal(rule.labels?.['severity'], 'critical', rule.alert);
      assert.match(rule.expr, /\bby \(namespace, deployment\b/, `${rule.alert} aggregation`);
      assert.ok(rule.for, `${rule.alert} has a for: duration`);
      assert.ok(rule.annotations?.['summary'] && rule.annotations['description'], rule.alert);
    }
  });

  test('promtool test rules: every alert fires for the bad Deployment only', async () => {
    const result = await promtool(['test', 'rules', unitRel], root);
    assert.equal(result.code, 0, result.output);
    const unit = parse(readFileSync(join(root, unitRel), 'utf8')) as {
      tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const tested = unit.tests.flatMap((t) => t.alert_rule_test);
    for (const rule of rules) {
      const cases = tested.filter((c) => c.alertname === rule.alert);
      assert.ok(
        cases.some((c) => c.exp_alerts.length === 0),
        `${rule.alert} tested silent`,
      );
      assert.ok(
        cases.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} tested firing`,
      );
    }
  });

  test('the unit tests fail when a threshold is broken', async () => {
    const broken = rulesText.replace('> 0.20', '> 0.50');
    assert.notEqual(broken, rulesText);
    const rulesPath = join(dir, 'broken-rules.yaml');
    writeFileSync(rulesPath, broken);
    const unit = parse(readFileSync(join(root, unitRel), 'utf8'));
    unit.rule_files = [rulesPath];
    const unitPath = join(dir, 'broken.test.yaml');
    writeFileSync(unitPath, stringify(unit));
    const result = await promtool(['test', 'rules', unitPath]);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /CriticalErrorRate/);
  });
});

/** A tiny application exposing request counters whose 5xx share the test controls. */
async function startApp(labels: Record<string, string>) {
  const rates = { ok: 100, errors: 0 };
  const counts = { ok: 0, errors: 0 };
  let last = Date.now();
  const advance = () => {
    const now = Date.now();
    counts.ok += (rates.ok * (now - last)) / 1000;
    counts.errors += (rates.errors * (now - last)) / 1000;
    last = now;
  };
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const server = createServer((req, res) => {
    advance();
    const series = (status: string, value: number) =>
      `http_requests_total{${[...l, `status="${status}"`].join(',')}} ${value.toFixed(0)}`;
    res.writeHead(req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(
      [
        '# TYPE http_requests_total counter',
        series('200', counts.ok),
        series('500', counts.errors),
        '',
      ].join('\n'),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    setRates(next: { ok: number; errors: number }) {
      advance();
      Object.assign(rates, next);
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe('Prometheus → Alertmanager → controller', () => {
  let fake: FakeKube;
  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 10 });
  });
  after(async () => {
    await fake.close();
  });

  test('a rising error rate fires CriticalErrorRate and the Deployment is rolled back', async (t) => {
    const defer = cleanup(t);
    const name = 'checkout';
    await deployV1ThenV2(fake, name);
    const { server, proxy, webhookUrl } = await startController(defer, fake);
    const app = await startApp({ namespace: NAMESPACE, deployment: name, method: 'GET' });
    defer(() => app.close());
    const am = await startAlertmanager({ webhookUrl, password: SECRET });
    defer(() => am.stop());

    // The shipped rule, with only `for:` shortened so the test takes seconds, not minutes.
    const rule = rules.find((r) => r.alert === 'CriticalErrorRate');
    assert.ok(rule);
    const testRule = { ...rule, for: '1s' };
    assert.equal(testRule.expr, rule.expr, 'the expression is the shipped one');
    const prometheus = await startPrometheus({
      scrapeTargets: [app.target],
      alertmanagers: [new URL(am.url).host],
      ruleFiles: {
        'critical-error-rate.yaml': stringify({
          groups: [{ name: 'example-app-critical', rules: [testRule] }],
        }),
      },
    });
    defer(() => prometheus.stop());

    // Healthy traffic first: scraped, evaluated, nothing fires.
    const ratio = `(${rule.expr.replace(/\s*>\s*0\.20\s*$/, '')})`;
    await until(
      async () => (await prometheus.query(ratio)).length === 1,
      8000,
      'the error ratio to be computed from two scrapes',
    );
    assert.deepEqual(await prometheus.alerts(), []);
    assert.equal(proxy.exchanges.length, 0);

    app.setRates({ ok: 100, errors: 100 });
    await rolledBack(fake, name, 15_000);
    const job = await jobWhen(server, name, (j) => j.state === 'succeeded');
    await proxy.waitFor(1);

    assert.equal(imageOf(fake, name), `registry.example/${name}:v1`);
    assert.equal(templatePatches(fake, name).length, 1);
    assert.equal(job.trigger, 'error_rate_threshold');
    // The alert came from Prometheus: its labels are exactly what the rule keeps.
    assert.deepEqual(job.alert.labels, {
      alertname: 'CriticalErrorRate',
      severity: 'critical',
      namespace: NAMESPACE,
      deployment: name,
    });
    assert.ok(job.alert.generatorURL.startsWith(prometheus.url), job.alert.generatorURL);
    assert.match(job.alert.annotations.summary, new RegExp(`on ${NAMESPACE}/${name}$`));
    assert.deepEqual(
      decisions(proxy).map((d) => [d.status, d.decision]),
      [['firing', 'queued']],
    );

    // The errors stop (the rollback worked): Prometheus resolves the alert, Alertmanager sends
    // the resolved notification, and the rollback is verified.
    app.setRates({ ok: 10_000, errors: 0 });
    const verified = await jobWhen(server, name, (j) => j.verdict !== 'pending', 15_000, 'verdict');
    assert.equal(verified.verdict, 'recovered');
    assert.ok(verified.recoverySeconds >= 0 && verified.recoverySeconds < 15);
    await until(() => decisions(proxy).length >= 2, 3000, 'the resolved decision');
    assert.deepEqual(decisions(proxy).at(-1), {
      ...decisions(proxy).at(-1),
      status: 'resolved',
      decision: 'resolved',
    });
    assert.equal(templatePatches(fake, name).length, 1);
  });
});
