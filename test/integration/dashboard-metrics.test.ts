// The Grafana dashboard (charts/rollback-controller/files/dashboard.json) against the real
// controller: every PromQL query is valid (promtool) and names only metrics that a live server
// exports on /metrics, so no panel stays empty because of a typo or a renamed metric.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const dashboardPath = resolve(
  import.meta.dirname,
  '..',
  '..',
  'charts',
  'rollback-controller',
  'files',
  'dashboard.json',
);

interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  includeAll?: boolean;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

// PromQL words that look like names but are operators, modifiers or aggregations.
const KEYWORDS = new Set(
  [
    'by without on ignoring group_left group_right offset bool and or unless atan2 inf nan',
    'sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk',
  ]
    .join(' ')
    .split(' '),
);

/** Metric names a PromQL expression selects (Grafana variables allowed). */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\$\{?\w+\}?/g, '0')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1');
  for (const m of stripped.matchAll(/(\d[\w.]*)|([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const name = m[2];
    if (m[1] !== undefined || name === undefined || m[3] !== undefined) continue;
    if (!KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/** Grafana's built-in and dashboard variables replaced by values Prometheus accepts. */
function concrete(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval/g, '5m')
    .replace(/\$__range_s/g, '86400')
    .replace(/\$__range/g, '1d')
    .replace(/\$cluster|\$workload_namespace/g, '.*');
}

/** What the dashboard reads from kube-state-metrics (a well-known exporter that counts deploys). */
const KUBE_STATE_METRICS = new Set(['kube_replicaset_created']);

let server: TestServer;
let exported: Set<string>;

before(async () => {
  server = await startTestServer();
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200, 'GET /metrics needs no auth');
  const text = await res.text();
  exported = new Set<string>();
  // TYPE lines name every family, including labelled ones with no sample yet.
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    exported.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) exported.add(name + s);
  }
  for (const m of text.matchAll(/^([A-Za-z_:][\w:]*)[{ ]/gm)) exported.add(m[1]);
});

after(async () => {
  await server?.close();
});

describe('dashboard.json', () => {
  test('the metric-name extractor reads PromQL correctly', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.95, sum by (le, executor) (rate(a_bucket{x="y{}", ns=~"$namespace"}[$__rate_interval]))) / on (job) b offset 5m > bool 1e3',
      ),
      ['a_bucket', 'b'],
    );
    assert.deepEqual(metricNames('sum(increase(c_total[1h])) by (outcome) or vector(0)'), [
      'c_total',
    ]);
  });

  test('is a dashboard Grafana can provision: schema, uid, datasource, cluster and workload namespace variables', () => {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    assert.equal(dashboard.uid, 'rollback-controller');
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    assert.equal(vars.get('datasource')?.type, 'datasource');
    assert.equal(vars.get('datasource')?.query, 'prometheus');
    for (const name of ['cluster', 'workload_namespace']) {
      assert.equal(vars.get(name)?.type, 'query', name);
      assert.equal(vars.get(name)?.includeAll, true, name);
    }
    assert.equal(vars.get('namespace'), undefined, "no filter on the controller's own namespace");
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of dashboard.panels) {
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
    }
    for (const p of panels) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
      assert.ok(p.targets?.length, `${p.title} has queries`);
    }
  });

  test('has the panels operators look for', () => {
    const titles = panels.map((p) => p.title);
    for (const title of [
      'Rollback frequency by outcome',
      'Rollback duration',
      'Success rate',
      'Trigger reasons',
      'Decisions by kind',
      'Queue depth and jobs in progress',
      'Alert-to-action latency',
      'Paused and circuit state',
      'Notification failures',
      'Verdicts',
      'Recovery time',
      'Median time to restore',
      'Time to restore by stage',
      'Deploys (kube-state-metrics)',
      'Change failure rate',
      'Deploys and rollbacks',
      'What was rolled back',
    ]) {
      assert.ok(titles.includes(title), `missing panel "${title}"`);
    }
  });

  test('every query filters by cluster; those with workload labels by workload namespace too', () => {
    for (const t of targets) {
      for (const selector of t.expr.match(/\b[a-z_:][\w:]*\{[^}]*\}/g) ?? []) {
        assert.match(selector, /cluster=~"\$cluster"/, `${t.panel}: ${selector}`);
        if (/^(kube_|rollback_last_)/.test(selector))
          assert.match(
            selector,
            /namespace=~"\$workload_namespace"/,
            `${t.panel}: ${selector} is about workloads`,
          );
      }
    }
  });

  test('every query selects only metrics the running controller exports, or kube-state-metrics', () => {
    assert.ok(exported.has('rollback_jobs_total'), 'the live /metrics lists rollback_jobs_total');
    const used = new Set<string>();
    for (const t of targets) {
      const names = metricNames(t.expr);
      assert.ok(names.length > 0, `${t.panel} ${t.refId}: no metric in ${t.expr}`);
      for (const name of names) {
        // Deploys are counted by kube-state-metrics, never by the controller.
        used.add(name);
        if (KUBE_STATE_METRICS.has(name)) continue;
        assert.ok(exported.has(name), `${t.panel} ${t.refId}: ${name} is not exported`);
      }
    }
    for (const name of [
      'rollback_jobs_total',
      'rollback_job_duration_seconds_bucket',
      'rollback_decisions_total',
      'rollback_queue_depth',
      'rollback_jobs_in_progress',
      'rollback_alert_to_action_seconds_bucket',
      'rollback_paused',
      'rollback_circuit_open',
      'rollback_notifications_total',
      'rollback_verdicts_total',
      'rollback_recovery_seconds_bucket',
      'rollback_time_to_restore_seconds_bucket',
      'rollback_last_rollback_info',
      'rollback_last_time_to_restore_seconds',
      'kube_replicaset_created',
    ]) {
      assert.ok(used.has(name), `no panel shows ${name}`);
    }
  });

  test('every query is valid PromQL (promtool check rules)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
    try {
      const file = join(dir, 'dashboard-queries.yaml');
      const rules = targets.map((t, i) => ({
        record: `dashboard:query_${i}`,
        expr: concrete(t.expr),
      }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      let output: string;
      try {
        const { stdout, stderr } = await run('promtool', ['check', 'rules', file]);
        output = stdout + stderr;
      } catch (err) {
        const e = err as { code?: string | number; stdout?: string; stderr?: string };
        if (e.code === 'ENOENT') {
          assert.fail(
            'promtool is not on PATH: install the Debian package `prometheus` (apt-get install prometheus)',
          );
        }
        assert.fail(`invalid PromQL in the dashboard:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
      assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
