// The Grafana dashboard shows data: the real Prometheus (Debian package) scrapes a controller
// that performed rollbacks (some recovered, some not, Slack off), and every panel query, with
// the dashboard's variables substituted as Grafana would, returns samples with finite values
// through Prometheus' HTTP API. Two rounds of rollbacks, with a scrape between them, so counters
// and histograms have an increase for increase()/rate() to see, as on a live system. The deploys
// the change-failure panels divide by come from kube-state-metrics' `kube_replicaset_created`:
// here a stand-in serves that series, in kube-state-metrics' format, for the fake cluster's
// ReplicaSets (the controller never counts deploys itself); test/cluster/kube-state-metrics.test.ts
// runs the real exporter against the real control plane for those panels.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { alert, payload } from '../support/alerts.js';
import { loadDashboard, panelQueries, substitute } from '../support/dashboard.js';
import { startSlackSink } from '../support/slack-sink.js';
import { startFakeKube } from '../support/fake-kube/index.js';
import { startPrometheus } from '../support/prometheus.js';
import { until } from '../support/until.js';
import {
  alertLabels,
  cleanup,
  controllerConfig,
  deployV1ThenV2,
  jobWhen,
  startController,
} from './stack.js';

const dashboard = loadDashboard();

/** The labels the ServiceMonitor's target carries, as in a cluster (honorLabels: true). */
const NAMESPACE_LABEL = 'monitoring';
const CLUSTER = 'us-1';
const VERIFICATION_S = 2;

test('every dashboard panel query returns data from a real Prometheus', async (t) => {
  const defer = cleanup(t);
  const fake = await startFakeKube();
  defer(() => fake.close());
  // Slack refuses every post (a revoked webhook): the notification-failure panel has failures to
  // show (a channel that is not configured counts `disabled`, which the panel rightly leaves out).
  const slack = await startSlackSink();
  slack.respondWith(() => ({ status: 400, body: 'invalid_token' }));
  defer(() => slack.close());
  const { server } = await startController(defer, fake, {
    env: { SLACK_WEBHOOK_URL: slack.url },
    configText: `${controllerConfig({ verificationWindowSeconds: VERIFICATION_S })}\ncluster: { name: ${CLUSTER} }`,
  });
  const kubeStateMetrics = await replicaSetExporter(fake);
  defer(() => kubeStateMetrics.close());
  const started = Date.now();
  const prometheus = await startPrometheus({
    scrapeTargets: [new URL(server.url).host, kubeStateMetrics.host],
    targetLabels: { namespace: NAMESPACE_LABEL, cluster: CLUSTER },
    honorLabels: true,
  });
  defer(() => prometheus.stop());
  const scalar = async (expr: string) => Number((await prometheus.query(expr))[0]?.value[1]);
  await until(
    async () => (await scalar('up{job="app"}')) === 1,
    20_000,
    'the controller is scraped',
  );

  // One round: two bad deploys rolled back; one alert resolves (recovered), one does not.
  let verdicts = 0;
  const round = async (recovers: string, stays: string) => {
    for (const name of [recovers, stays]) await deployV1ThenV2(fake, name);
    const startsAt = new Date().toISOString();
    const firing = (name: string) =>
      alert({
        alertname: 'CriticalErrorRate',
        labels: alertLabels(name),
        fingerprint: `dash-${name}`,
        startsAt,
      });
    const res = await server.request('POST', 'trigger', payload([firing(recovers), firing(stays)]));
    assert.deepEqual(
      res.body.decisions.map((d: { decision: string }) => d.decision),
      ['queued', 'queued'],
    );
    for (const name of [recovers, stays])
      await jobWhen(server, name, (j) => j.state === 'succeeded', 15_000, 'rolled back');
    const resolved = alert({
      alertname: 'CriticalErrorRate',
      labels: alertLabels(recovers),
      fingerprint: `dash-${recovers}`,
      startsAt,
      status: 'resolved',
      endsAt: new Date().toISOString(),
    });
    assert.equal((await server.request('POST', 'trigger', payload([resolved]))).status, 202);
    await jobWhen(server, recovers, (j) => j.verdict === 'recovered', 10_000, 'recovered');
    await jobWhen(server, stays, (j) => j.verdict === 'not_recovered', 15_000, 'not recovered');
    verdicts += 2;
    // Prometheus has seen this round before the next one starts.
    await until(
      async () => (await scalar('sum(rollback_verdicts_total)')) === verdicts,
      20_000,
      `Prometheus scraped ${verdicts} verdicts`,
    );
  };
  await round('cart', 'search');
  await round('orders', 'profile');

  // The time-to-restore histogram has samples for every stage.
  for (const stage of ['patched', 'ready', 'resolved'])
    assert.ok(
      (await scalar(
        `sum(rollback_time_to_restore_seconds_count{cluster="${CLUSTER}", kind="Deployment", stage="${stage}"})`,
      )) >= 1,
      stage,
    );

  // The variables list what Grafana would offer: the cluster, and the workloads' namespace (not
  // the controller's).
  const listed = async (name: string) => {
    const variable = dashboard.templating.list.find((v) => v.name === name);
    const m = /label_values\((.+), (\w+)\)"/.exec(JSON.stringify(variable?.query));
    assert.ok(m, `the ${name} variable is label_values(<selector>, <label>)`);
    const selector = (m[1] ?? '').replaceAll('\\"', '"').replaceAll('$cluster', CLUSTER);
    const series = (await (
      await fetch(`${prometheus.url}/api/v1/series?match[]=${encodeURIComponent(selector)}`)
    ).json()) as { data: Array<Record<string, string>> };
    return [...new Set(series.data.map((s) => s[m[2] ?? '']))];
  };
  assert.deepEqual(await listed('cluster'), [CLUSTER]);
  assert.deepEqual(await listed('workload_namespace'), ['shop']);

  // Grafana's substitutions for an instant view of the whole test: one data point, so the
  // interval is the range; the variables are the values they list.
  const seconds = Math.ceil((Date.now() - started) / 1000) + 5;
  const substituted = (expr: string) =>
    substitute(expr, { cluster: CLUSTER, workloadNamespace: 'shop', seconds });
  const empty: string[] = [];
  const queries = panelQueries(dashboard);
  assert.ok(queries.length >= 20, `${queries.length} queries`);
  for (const q of queries) {
    const expr = substituted(q.expr);
    assert.doesNotMatch(expr, /\$/, `${q.panel}: every variable substituted`);
    const result = await prometheus.query(expr);
    const values = result.map((r) => Number(r.value[1]));
    if (values.length === 0 || !values.every(Number.isFinite))
      empty.push(`${q.panel} (${q.refId}): ${expr} → ${JSON.stringify(values)}`);
  }
  assert.deepEqual(empty, [], 'panel queries without data');
});

/**
 * kube-state-metrics' `kube_replicaset_created` (creation time in Unix seconds, by namespace and
 * replicaset) for the fake cluster's ReplicaSets: what the real exporter publishes for them.
 */
async function replicaSetExporter(
  fake: Awaited<ReturnType<typeof startFakeKube>>,
): Promise<{ host: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    const lines = ['# TYPE kube_replicaset_created gauge'];
    for (const rs of fake.list('ReplicaSet') as Array<{
      metadata: { namespace: string; name: string; creationTimestamp: string };
    }>) {
      const { namespace, name, creationTimestamp } = rs.metadata;
      lines.push(
        `kube_replicaset_created{namespace="${namespace}",replicaset="${name}"} ${Date.parse(creationTimestamp) / 1000}`,
      );
    }
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
