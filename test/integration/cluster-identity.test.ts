// A controller that knows its cluster: another cluster's alert is refused before any rule, and
// the name shows wherever a human looks (Slack, /status, the dry run, the start-up log).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { PROD_SERVER, twoContextKubeconfig } from '../support/kubeconfig-file.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { until } from '../support/until.js';
import { compiledEntry } from '../support/compiled-entry.js';
import { HANG_GUARD_MS } from '../support/ha-replicas.js';

const CONFIG = `
cluster: { name: config-name, label: cluster }
rules:
  - { alert: CriticalErrorRate, trigger: error_rate_threshold, confidence: high }
  - { alert: SlowButFine, trigger: latency_degradation, confidence: high, autoRollback: false }
`;

describe('cluster identity in the running controller', () => {
  let sink: SlackSink;
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    sink = await startSlackSink();
    s = await startTestServer({
      executors: { kubernetes: exec },
      // The environment wins over the config's cluster.name; ROLLBACK_KUBE_CONTEXT picks the
      // kubeconfig's non-current context.
      env: {
        SLACK_WEBHOOK_URL: sink.url,
        ROLLBACK_CLUSTER_NAME: 'us-1',
        KUBECONFIG: twoContextKubeconfig(),
        ROLLBACK_KUBE_CONTEXT: 'prod-eu',
      },
      configText: CONFIG,
    });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  test("another cluster's alert is invalid_target and touches nothing; ours rolls back", async () => {
    const theirs = firing('CriticalErrorRate', 'checkout', { labels: { cluster: 'eu-1' } });
    const ours = firing('CriticalErrorRate', 'checkout', { labels: { cluster: 'us-1' } });
    const res = await s.request('POST', 'trigger', payload([theirs, ours]));
    assert.equal(res.status, 202);
    const [a, b] = res.body.decisions;
    assert.equal(a.decision, 'invalid_target');
    assert.equal(a.reason, 'alert is for cluster eu-1; this controller serves us-1');
    assert.equal(a.jobId, undefined);
    assert.equal(b.decision, 'queued', 'the eu-1 alert did not claim the target first');
    await until(() => exec.executed().length === 1);
    const jobs = (await s.request('GET', 'jobs')).body.jobs;
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].alert.labels.cluster, 'us-1');
  });

  test('Slack names the cluster, its API server and context on job and decision messages', async () => {
    await s.request(
      'POST',
      'trigger',
      payload([firing('SlowButFine', 'search', { labels: { cluster: 'us-1' } })]),
    );
    await until(
      () => sink.messages.some((m) => /no automatic rollback/.test(m.body.text ?? '')),
      10_000,
      'the notify_only message',
    );
    await until(() => sink.messages.some((m) => /Rollback started/.test(m.body.text ?? '')));
    for (const m of sink.messages) {
      assert.match(m.body.text ?? '', /^\[us-1\] /, m.body.text);
      const second = m.body.blocks?.[1];
      assert.deepEqual(second, {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `Cluster: *us-1* · \`${PROD_SERVER}\` (context prod-eu)` },
        ],
      });
    }
  });

  test('/status, /readyz, the dry run and the start-up log say which cluster', async () => {
    const status = await s.request('GET', 'status');
    assert.deepEqual(status.body.cluster, {
      name: 'us-1',
      label: 'cluster',
      requireLabel: false,
      apiServer: PROD_SERVER,
      context: 'prod-eu',
    });
    const ready = (await (await fetch(`${s.url}/readyz`)).json()) as Record<string, unknown>;
    assert.equal(ready['cluster'], 'us-1');
    assert.equal(ready['kubeContext'], 'prod-eu');
    assert.doesNotMatch(JSON.stringify(ready), /127\.0\.0\.2/, 'the URL only where authenticated');
    const dry = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: 'shop', deployment: 'web', cluster: 'eu-1' },
    });
    assert.equal(dry.status, 200);
    assert.equal(dry.body.cluster, 'us-1');
    assert.equal(dry.body.apiServer, PROD_SERVER);
    assert.equal(dry.body.kubeContext, 'prod-eu');
    assert.equal(dry.body.plans[0].decision, 'invalid_target');
    assert.equal(
      dry.body.plans[0].reason,
      'alert is for cluster eu-1; this controller serves us-1',
    );
    const listening = s.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
    assert.equal(listening?.cluster, 'us-1');
    assert.equal(listening?.apiServer, PROD_SERVER);
    assert.equal(listening?.kubeContext, 'prod-eu');
  });
});

describe('without a cluster name', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      env: { KUBECONFIG: '/nonexistent/kubeconfig' },
    });
  });
  after(() => s.close());

  test('any cluster label is accepted and the outputs say no name is set', async () => {
    const res = await s.request(
      'POST',
      'test',
      payload([firing('CriticalErrorRate', 'checkout', { labels: { cluster: 'eu-1' } })]),
    );
    assert.equal(res.body.cluster, null);
    assert.equal(res.body.apiServer, null, 'no Kubernetes config: no API server to name');
    assert.equal(res.body.plans[0].decision, 'queued');
    assert.equal((await s.request('GET', 'status')).body.cluster.name, null);
  });
});

describe('requireLabel', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      configText: 'cluster: { name: us-1, requireLabel: true }',
    });
  });
  after(() => s.close());

  test('an alert without the cluster label is refused with how to fix it', async () => {
    const res = await s.request(
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', 'checkout')]),
    );
    assert.equal(res.status, 202);
    assert.equal(res.body.decisions[0].decision, 'invalid_target');
    assert.match(res.body.decisions[0].reason, /no cluster label.*give the alert cluster="us-1"/);
    assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, []);
  });
});

test('a bad ROLLBACK_CLUSTER_NAME stops the start with the variable named', async () => {
  await assert.rejects(
    startTestServer({ env: { ROLLBACK_CLUSTER_NAME: 'us 1' } }),
    /ROLLBACK_CLUSTER_NAME: must be one word/,
  );
});

test('check-config reports cluster problems by path, the environment variable included', () => {
  const r = spawnSync(
    process.execPath,
    [compiledEntry('cli'), 'check-config', resolve('test/fixtures/config/full.yaml')],
    {
      encoding: 'utf8',
      env: { ...process.env, SLACK_CHANNEL: '#deploys', ROLLBACK_CLUSTER_NAME: 'us 1' },
      timeout: HANG_GUARD_MS,
    },
  );
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /FAILED: 1 problem/);
  assert.match(
    r.stdout,
    /ROLLBACK_CLUSTER_NAME: must be one word without spaces or control characters \(got "us 1"\)/,
  );
});
