// Cluster identity: which alerts this controller may act on, and how the name is configured.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertSchema } from '../../src/alerts/payload-schema.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { clusterDecision, clusterMismatch } from '../../src/decide/cluster-decision.js';

const checkout = { alertname: 'CriticalErrorRate', namespace: 'prod', deployment: 'checkout' };

function cluster(yaml: string, env: Record<string, string> = {}) {
  const r = parseConfigText(yaml, env);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config.cluster;
}

describe('clusterMismatch', () => {
  const us1 = cluster('cluster: { name: us-1 }');

  test('an alert for this cluster, or with no cluster label, is ours', () => {
    assert.equal(clusterMismatch({ ...checkout, cluster: 'us-1' }, us1), undefined);
    assert.equal(clusterMismatch(checkout, us1), undefined);
    assert.equal(clusterMismatch({ ...checkout, cluster: '' }, us1), undefined);
  });

  test("another cluster's alert names both clusters", () => {
    assert.equal(
      clusterMismatch({ ...checkout, cluster: 'eu-1' }, us1),
      'alert is for cluster eu-1; this controller serves us-1',
    );
    // Label values are compared exactly, as Alertmanager matchers do.
    assert.match(clusterMismatch({ ...checkout, cluster: 'US-1' }, us1) ?? '', /cluster US-1;/);
  });

  test('a hostile label value is quoted and clipped', () => {
    const reason = clusterMismatch(
      { ...checkout, cluster: `eu-1\n*bold* ${'x'.repeat(200)}` },
      us1,
    );
    assert.match(reason ?? '', /^alert is for cluster "eu-1\\n\*bold\* x+…"; this controller/);
    assert.ok((reason ?? '').length < 160);
  });

  test('a custom label name', () => {
    const c = cluster('cluster: { name: us-1, label: k8s_cluster }');
    assert.equal(clusterMismatch({ ...checkout, cluster: 'eu-1' }, c), undefined);
    assert.match(clusterMismatch({ ...checkout, k8s_cluster: 'eu-1' }, c) ?? '', /eu-1/);
  });

  test('requireLabel: an alert without the label is refused, saying how to fix it', () => {
    const c = cluster('cluster: { name: us-1, requireLabel: true }');
    assert.equal(
      clusterMismatch(checkout, c),
      'the alert has no cluster label; this controller serves us-1 and requires it (cluster.requireLabel): give the alert cluster="us-1", for example with Prometheus external_labels or a label on the alert rule',
    );
    assert.equal(clusterMismatch({ ...checkout, cluster: 'us-1' }, c), undefined);
  });

  test('no name configured: every alert is ours, whatever its label', () => {
    const c = cluster('');
    assert.equal(clusterMismatch({ ...checkout, cluster: 'eu-1' }, c), undefined);
  });
});

describe('clusterDecision', () => {
  const alert = (labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing') =>
    alertSchema.parse({ status, labels, startsAt: '2026-11-22T11:59:00Z', fingerprint: 'f1' });
  const us1 = cluster('cluster: { name: us-1 }');

  test("another cluster's alert is invalid_target, not final, with no effect", () => {
    for (const status of ['firing', 'resolved'] as const) {
      const ad = clusterDecision(alert({ ...checkout, cluster: 'eu-1' }, status), us1);
      assert.deepEqual(ad, {
        decision: {
          alertname: 'CriticalErrorRate',
          fingerprint: 'f1',
          status,
          decision: 'invalid_target',
          reason: 'alert is for cluster eu-1; this controller serves us-1',
        },
        final: false,
        effect: { kind: 'none' },
      });
    }
  });

  test('our own alert is left to the rules', () => {
    assert.equal(clusterDecision(alert({ ...checkout, cluster: 'us-1' }), us1), undefined);
  });
});

describe('cluster config', () => {
  test('defaults: no name, label "cluster", label not required', () => {
    assert.deepEqual(cluster(''), { label: 'cluster', requireLabel: false });
  });

  test('ROLLBACK_CLUSTER_NAME wins over cluster.name', () => {
    assert.equal(
      cluster('cluster: { name: us-1 }', { ROLLBACK_CLUSTER_NAME: 'eu-1' }).name,
      'eu-1',
    );
    assert.equal(cluster('', { ROLLBACK_CLUSTER_NAME: 'eu-1' }).name, 'eu-1');
    assert.equal(cluster('cluster: { name: us-1 }', { ROLLBACK_CLUSTER_NAME: '' }).name, 'us-1');
  });

  test('bad values are config problems that say what is expected', () => {
    const problems = (yaml: string, env: Record<string, string> = {}) => {
      const r = parseConfigText(yaml, env);
      assert.ok(!r.ok, `accepted: ${yaml} ${JSON.stringify(env)}`);
      return r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    assert.match(
      problems('cluster: { name: "us 1" }')[0] ?? '',
      /^cluster\.name: must be one word/,
    );
    assert.match(problems('cluster: { name: "" }')[0] ?? '', /^cluster\.name: /);
    assert.match(
      problems('cluster: { label: "k8s-cluster" }')[0] ?? '',
      /^cluster\.label: must be a Prometheus label name/,
    );
    assert.match(problems('cluster: { label: "__name__" }')[0] ?? '', /^cluster\.label: /);
    assert.match(problems('cluster: { nam: us-1 }')[0] ?? '', /^cluster: .*nam/);
    assert.deepEqual(problems('cluster: { requireLabel: true }'), [
      "cluster.requireLabel: needs this controller's cluster name to compare with: set cluster.name or ROLLBACK_CLUSTER_NAME",
    ]);
    assert.deepEqual(problems('', { ROLLBACK_CLUSTER_NAME: 'us 1' }), [
      'ROLLBACK_CLUSTER_NAME: must be one word without spaces or control characters (got "us 1")',
    ]);
    // requireLabel is satisfied by the environment's name.
    assert.equal(
      cluster('cluster: { requireLabel: true }', { ROLLBACK_CLUSTER_NAME: 'us-1' }).name,
      'us-1',
    );
  });
});
