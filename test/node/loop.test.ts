// The whole loop on a real node, no shortcut: the demo app deployed on v1 then v2 (v2 reports
// errors), the real Prometheus discovering its pods through the API server (kubernetes_sd_configs,
// see loop-config.ts) and firing an alert rule, the real Alertmanager routing it with the README's receiver
// configuration to the controller's Service, the controller (the chart, the built image) rolling
// back, the pods Ready on v1, the alert resolving, the verdict `recovered`, and the Slack sink
// showing the messages. The timeline is the suite's figure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRIDGE_IP, startNodeCluster, type NodeCluster } from '../support/kube-node/index.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { until } from '../support/until.js';
import {
  RELEASE,
  RELEASE_NS,
  SA_USER,
  callController,
  demoDeployment,
  installChart,
  isReady,
  podsOf,
  serviceUrl,
} from './support.js';
import { loopChartValues, startDemoMonitoring } from './loop-config.js';

const SHOP = 'shop';
const APP = 'checkout';
let cluster: NodeCluster;
let dir: string;
let sink: SlackSink;
let monitoring: Awaited<ReturnType<typeof startDemoMonitoring>> | undefined;

before(
  async () => {
    cluster = await startNodeCluster();
    dir = mkdtempSync(join(tmpdir(), 'rc-node-loop-'));
    sink = await startSlackSink(BRIDGE_IP);
    await cluster.createNamespace(SHOP);
    await installChart(cluster, dir, loopChartValues(cluster.images.controller, SHOP, sink.url));
  },
  { timeout: 3_600_000 },
);
after(async () => {
  await monitoring?.stop();
  await sink?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the whole alert loop on a real node', () => {
  test('v2 errors → Prometheus alert → Alertmanager → controller → rollback → v1 Ready → resolved → recovered → Slack', async () => {
    const t0 = Date.now();
    const timeline: Array<[string, number]> = [];
    const mark = (what: string, at = Date.now()) => timeline.push([what, at]);

    const service = await serviceUrl(cluster, RELEASE_NS, RELEASE);
    monitoring = await startDemoMonitoring(cluster, dir, service, SHOP);
    const { prometheus } = monitoring;

    await cluster.apply(JSON.stringify(demoDeployment(SHOP, APP, cluster.images.demoV1, 2)));
    await cluster.waitRolledOut('Deployment', SHOP, APP, 300_000);
    // Prometheus found and scraped the healthy pods: the rule sees v1, no alert.
    await until(
      async () => (await prometheus.query('demo_app_info{version="v1"}')).length === 2,
      300_000,
      'Prometheus scrapes both v1 pods',
    );
    mark('v2 deployed');
    await cluster.setImage('Deployment', SHOP, APP, cluster.images.demoV2);

    const firing = async () =>
      (await prometheus.alerts()).some(
        (a) => a.labels['alertname'] === 'DemoAppErrors' && a.state === 'firing',
      );
    await until(firing, 300_000, 'DemoAppErrors firing in Prometheus');
    mark('alert firing (Prometheus)');

    let job: any;
    await until(
      async () => {
        const r = await callController(service, 'GET', 'jobs').catch(() => undefined);
        job = r?.body?.jobs?.[0];
        return job !== undefined;
      },
      300_000,
      'Alertmanager delivered the alert to the controller',
    );
    mark('notification received (job created)', Date.parse(job.createdAt));

    const patches = () =>
      cluster.audit.templateWrites({ user: SA_USER, namespace: SHOP, name: APP });
    await until(() => patches().length > 0, 300_000, 'the rollback PATCH');
    mark('template PATCH (audit log)', Date.parse(patches()[0].stageTimestamp));

    await until(
      async () => {
        const d = await cluster.get('Deployment', SHOP, APP);
        const pods = await podsOf(cluster, SHOP, `app=${APP}`);
        return (
          d.spec.template.spec.containers[0].image === cluster.images.demoV1 &&
          pods.length === 2 &&
          pods.every((p) => isReady(p) && p.spec.containers[0].image === cluster.images.demoV1)
        );
      },
      300_000,
      'two Ready pods on v1',
    );
    mark('pods Ready on v1');

    await until(async () => !(await firing()), 300_000, 'the alert resolves in Prometheus');
    mark('alert resolved (Prometheus)');

    await until(
      async () => {
        const r = await callController(service, 'GET', `jobs/${job.id}`);
        job = r.body;
        return job.verdict === 'recovered';
      },
      300_000,
      'verdict recovered',
    );
    mark('verdict recovered (resolved notification)');

    assert.equal(job.state, 'succeeded');
    assert.equal(patches().length, 1, 'one template PATCH');
    await until(
      () => sink.messages.some((m) => JSON.stringify(m.body).includes('recovered')),
      120_000,
      'Slack shows the recovery',
    );
    mark('Slack: recovered message');
    const texts = sink.messages.map((m) => JSON.stringify(m.body));
    assert.ok(
      texts.some((t) => t.includes(APP)),
      texts.join('\n'),
    );

    const lines = timeline.map(
      ([what, at]) => `  +${((at - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`,
    );
    console.log(`alert loop timeline (since the test started):\n${lines.join('\n')}`);
    console.log(`Slack messages: ${sink.messages.length}`);
  });
});
