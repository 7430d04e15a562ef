// The controller's own alerts (charts/rollback-controller/files/prometheus-rules.yaml) through the
// real promtool: the file is valid, its unit tests (test/fixtures/promtool) pass, every alert is
// tested both firing and silent, and breaking a rule makes those unit tests fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const rulesRel = join('charts', 'rollback-controller', 'files', 'prometheus-rules.yaml');
const unitRel = join('test', 'fixtures', 'promtool', 'prometheus-rules.test.yaml');
const rulesText = readFileSync(join(root, rulesRel), 'utf8');
const unitText = readFileSync(join(root, unitRel), 'utf8');

const ALERTS = [
  'RollbackControllerDown',
  'RollbackFailed',
  'RollbackCircuitOpen',
  'RollbackPausedTooLong',
  'RollbackNotificationsFailing',
  'RollbackNotRecovered',
  'RollbackOwnerSuspendedTooLong',
];

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface UnitTests {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

async function promtool(args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      assert.fail(
        'promtool is not on PATH: install the Debian package `prometheus` (apt-get install prometheus)',
      );
    }
    return { code: Number(e.code ?? 1), output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const rules = (parseYaml(rulesText) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap(
  (g) => g.rules,
);

describe('prometheus-rules.yaml', () => {
  test('promtool check rules accepts it', async () => {
    const result = await promtool(['check', 'rules', rulesRel], root);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: 7 rules found/);
  });

  test('has the controller alerts, each with a severity, summary, description and runbook', () => {
    assert.deepEqual(
      rules.map((r) => r.alert),
      ALERTS,
    );
    for (const rule of rules) {
      assert.ok(
        ['critical', 'warning'].includes(rule.labels?.['severity'] ?? ''),
        `${rule.alert} severity`,
      );
      for (const key of ['summary', 'description', 'runbook']) {
        assert.ok(rule.annotations?.[key], `${rule.alert} lacks annotation ${key}`);
      }
    }
    const byName = new Map(rules.map((r) => [r.alert, r]));
    assert.equal(byName.get('RollbackControllerDown')?.for, '5m');
    assert.equal(byName.get('RollbackPausedTooLong')?.for, '2h');
    assert.match(
      byName.get('RollbackControllerDown')!.expr,
      /absent\(up\{job=~"\.\*rollback-controller\.\*"\}\)/,
    );
  });

  test('promtool test rules passes the unit tests', async () => {
    const result = await promtool(['test', 'rules', unitRel], root);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS/);
  });

  test('the unit tests load this file and test every alert firing and silent', () => {
    const unit = parseYaml(unitText) as UnitTests;
    assert.deepEqual(
      unit.rule_files.map((f) => resolve(root, 'test', 'fixtures', 'promtool', f)),
      [join(root, rulesRel)],
    );
    const cases = unit.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of ALERTS) {
      const mine = cases.filter((c) => c.alertname === alert);
      assert.ok(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} is never tested firing`,
      );
      assert.ok(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} is never tested silent`,
      );
    }
  });
});

// Each mutation changes one rule the way a careless edit would; the unit tests must notice.
const MUTATIONS: Array<[string, string, string]> = [
  ['Down: a shorter for', 'for: 5m', 'for: 1m'],
  ['Down: no absent() arm', 'absent(up{job=~".*rollback-controller.*"}) or ', ''],
  ['Failed: a shorter window', 'outcome="failed"}[15m]', 'outcome="failed"}[5m]'],
  [
    'Failed: new failed series ignored',
    'or (rollback_jobs_total{outcome="failed"} > 0 unless rollback_jobs_total{outcome="failed"} offset 15m)',
    '',
  ],
  [
    'Failed: zero series fire',
    'rollback_jobs_total{outcome="failed"} > 0 unless',
    'rollback_jobs_total{outcome="failed"} unless',
  ],
  ['CircuitOpen: fires on closed', 'rollback_circuit_open == 1', 'rollback_circuit_open >= 0'],
  ['CircuitOpen: no pending time', 'for: 1m', 'for: 0m'],
  ['PausedTooLong: one hour', 'for: 2h', 'for: 1h'],
  ['NotificationsFailing: counts sent', 'outcome=~"failed|dropped"', 'outcome=~".+"'],
  ['NotificationsFailing: counts disabled', 'outcome=~"failed|dropped"', 'outcome!="sent"'],
  [
    'NotRecovered: a shorter window',
    'verdict="not_recovered"}[30m]',
    'verdict="not_recovered"}[5m]',
  ],
  [
    'NotRecovered: counts recovered',
    'rollback_verdicts_total{verdict="not_recovered"} > 0 unless',
    'rollback_verdicts_total > 0 unless',
  ],
];

describe('the promtool unit tests catch a broken rule', { concurrency: 4 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'promtool-mutants-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, from, to] of MUTATIONS) {
    test(name, async () => {
      assert.ok(rulesText.includes(from), `mutation source not found: ${from}`);
      const copy = join(dir, name.replace(/\W+/g, '-'));
      mkdirSync(join(copy, 'charts', 'rollback-controller', 'files'), { recursive: true });
      mkdirSync(join(copy, 'test', 'fixtures', 'promtool'), { recursive: true });
      writeFileSync(join(copy, rulesRel), rulesText.replace(from, to));
      writeFileSync(join(copy, unitRel), unitText);
      // The mutant must still be valid PromQL, so only the unit tests can catch it.
      const check = await promtool(['check', 'rules', rulesRel], copy);
      assert.equal(check.code, 0, check.output);
      const result = await promtool(['test', 'rules', unitRel], copy);
      assert.notEqual(result.code, 0, `the unit tests did not catch: ${name}`);
      assert.match(result.output, /FAILED/);
    });
  }
});
