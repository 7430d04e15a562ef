// The chart's cluster identity, through the real helm: `clusterName` becomes
// ROLLBACK_CLUSTER_NAME, `config.cluster` reaches config.yaml, and the controller reading both
// (as the pod would) serves that cluster; values.schema.json refuses names that could never match.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { helmPath } from '../support/tools.js';

const chart = resolve(import.meta.dirname, '..', '..', 'charts', 'rollback-controller');
const home = mkdtempSync(join(tmpdir(), 'rc-chart-cluster-'));
after(() => rmSync(home, { recursive: true, force: true }));

function helm(...args: string[]) {
  const r = spawnSync(helmPath(), args, {
    encoding: 'utf8',
    env: { ...process.env, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home },
    maxBuffer: 16 * 1024 * 1024,
  });
  return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** The pod's env as a map, and the ConfigMap's config.yaml, from `helm template`. */
function rendered(...set: string[]) {
  const r = helm('template', 'rc', chart, ...set.flatMap((s) => ['--set', s]));
  assert.equal(r.code, 0, r.output);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  const workload = docs.find((d) => d?.kind === 'Deployment');
  const env: Record<string, string> = {};
  for (const e of workload.spec.template.spec.containers[0].env) if (e.value) env[e.name] = e.value;
  const configText = docs.find((d) => d?.kind === 'ConfigMap').data['config.yaml'] as string;
  return { env, configText };
}

describe('chart: cluster identity', () => {
  test('default: no cluster name, the label defaults spelled out', () => {
    const { env, configText } = rendered();
    assert.equal(env['ROLLBACK_CLUSTER_NAME'], undefined);
    const r = parseConfigText(configText, env);
    assert.ok(r.ok);
    assert.deepEqual(r.config.cluster, { label: 'cluster', requireLabel: false });
  });

  test('clusterName sets ROLLBACK_CLUSTER_NAME; the controller serves that cluster', () => {
    const { env, configText } = rendered(
      'clusterName=us-1',
      'config.cluster.label=k8s_cluster',
      'config.cluster.requireLabel=true',
    );
    assert.equal(env['ROLLBACK_CLUSTER_NAME'], 'us-1');
    const r = parseConfigText(configText, env);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.deepEqual(r.config.cluster, { name: 'us-1', label: 'k8s_cluster', requireLabel: true });
  });

  test('values.schema.json refuses a name with a space and a label that is not a label name', () => {
    const space = helm('lint', chart, '--set', 'clusterName=us 1');
    assert.notEqual(space.code, 0, 'helm lint accepted clusterName "us 1"');
    assert.match(space.output, /clusterName/);
    const label = helm('lint', chart, '--set', 'config.cluster.label=k8s-cluster');
    assert.notEqual(label.code, 0, 'helm lint accepted label "k8s-cluster"');
    assert.match(label.output, /config\/cluster\/label/);
    assert.equal(helm('lint', '--strict', chart, '--set', 'clusterName=us-1').code, 0);
  });
});
