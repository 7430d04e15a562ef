// Two clusters behind one real Alertmanager running the README's multi-cluster config: each
// cluster has its own API server and its own controller (ROLLBACK_CLUSTER_NAME), both clusters
// have a `prod/checkout` at v2, and each cluster's alert rolls back only that cluster's checkout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { startAlertmanager } from '../support/alertmanager.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { nextWholeSecond, until } from '../support/until.js';
import { cleanup, SECRET, startController, type ControllerUnderTest } from './stack.js';

const CLUSTERS = ['us-1', 'eu-1'] as const;
type Cluster = (typeof CLUSTERS)[number];
const fixture = resolve(import.meta.dirname, '..', 'fixtures', 'alertmanager', 'multi-cluster.yml');
const dir = mkdtempSync(join(tmpdir(), 'rc-multi-'));
const fakes = {} as Record<Cluster, FakeKube>;

before(async () => {
  for (const c of CLUSTERS) fakes[c] = await startFakeKube({ rolloutStepMs: 10 });
});
after(async () => {
  await Promise.all(CLUSTERS.map((c) => fakes[c].close()));
  rmSync(dir, { recursive: true, force: true });
});

const image = (fake: FakeKube) =>
  fake.get('Deployment', 'prod', 'checkout').spec.template.spec.containers[0].image as string;

/** PATCHes of prod/checkout's pod template (not server-side dry runs): one per rollback. */
const templatePatches = (fake: FakeKube) =>
  fake.requests.filter(
    (r) =>
      r.method === 'PATCH' &&
      r.path === '/apis/apps/v1/namespaces/prod/deployments/checkout' &&
      !String(r.query['dryRun'] ?? '').includes('All') &&
      JSON.stringify(r.body ?? '').includes('template'),
  );

/** The README's config, pointed at this test's controllers, with test-sized intervals. */
function centralConfig(controllers: Record<Cluster, ControllerUnderTest>): string {
  const secretFile = join(dir, 'webhook-secret');
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const config = parse(readFileSync(fixture, 'utf8'));
  for (const route of config.route.routes) {
    if (route.group_wait) Object.assign(route, { group_wait: '1s', group_interval: '2s' });
  }
  for (const c of CLUSTERS) {
    const receiver = config.receivers.find(
      (r: { name: string }) => r.name === `rollback-controller-${c}`,
    );
    const hook = receiver.webhook_configs[0];
    assert.match(
      hook.url,
      new RegExp(`^https://rollback\\.${c}\\.`),
      'the README names the cluster',
    );
    hook.url = controllers[c].webhookUrl;
    hook.http_config.basic_auth.password_file = secretFile;
  }
  return stringify(config);
}

test("a central Alertmanager: each cluster's alert rolls back only that cluster's prod/checkout", async (t) => {
  const defer = cleanup(t);
  const controllers = {} as Record<Cluster, ControllerUnderTest>;
  for (const c of CLUSTERS) {
    const fake = fakes[c];
    await fake.createDeployment('prod', 'checkout', {
      image: 'registry.example/checkout:v1',
      replicas: 2,
    });
    await fake.settle();
    await fake.setImage('Deployment', 'prod', 'checkout', 'registry.example/checkout:v2');
    await fake.settle();
    await nextWholeSecond();
    controllers[c] = await startController(defer, fake, { env: { ROLLBACK_CLUSTER_NAME: c } });
  }
  const am = await startAlertmanager({
    // Unused with configText (its receivers name the controllers), but required by the type.
    webhookUrl: controllers['us-1'].webhookUrl,
    password: SECRET,
    configText: centralConfig(controllers),
  });
  defer(() => am.stop());
  const checkout = (cluster: Cluster) => ({
    alertname: 'CriticalErrorRate',
    severity: 'critical',
    cluster,
    namespace: 'prod',
    deployment: 'checkout',
  });
  const jobs = async (c: Cluster) =>
    (await controllers[c].server.request('GET', 'jobs')).body.jobs as Array<{
      state: string;
      alert: { labels: Record<string, string> };
    }>;

  // eu-1's checkout misbehaves: only eu-1 rolls back.
  await am.addAlert(checkout('eu-1'), { summary: '5xx above 20% in eu-1' });
  await until(async () => (await jobs('eu-1'))[0]?.state === 'succeeded', 15_000, 'eu-1 rollback');
  assert.equal(image(fakes['eu-1']), 'registry.example/checkout:v1');
  assert.equal(image(fakes['us-1']), 'registry.example/checkout:v2', 'us-1 untouched');
  assert.equal(templatePatches(fakes['us-1']).length, 0);
  assert.equal(controllers['us-1'].proxy.exchanges.length, 0, 'us-1 heard nothing of it');

  // Then us-1's: only us-1 rolls back, and eu-1 is not rolled back again.
  await am.addAlert(checkout('us-1'), { summary: '5xx above 20% in us-1' });
  await until(async () => (await jobs('us-1'))[0]?.state === 'succeeded', 15_000, 'us-1 rollback');
  assert.equal(image(fakes['us-1']), 'registry.example/checkout:v1');
  for (const c of CLUSTERS) {
    assert.equal(templatePatches(fakes[c]).length, 1, `${c}: one rollback`);
    const [job, ...more] = await jobs(c);
    assert.equal(more.length, 0, `${c}: one job`);
    assert.equal(job?.alert.labels['cluster'], c);
    // Alertmanager sent each controller its own cluster's alerts only.
    const sent = controllers[c].proxy.exchanges.flatMap(
      (e) => e.payload.alerts as Array<{ labels: Record<string, string> }>,
    );
    assert.ok(sent.length > 0);
    assert.deepEqual([...new Set(sent.map((a) => a.labels['cluster']))], [c]);
  }

  // Were the routing ever wrong, the controller itself refuses: eu-1's notification, exactly as
  // Alertmanager sent it, delivered to us-1's controller.
  const euNotification = controllers['eu-1'].proxy.exchanges[0]?.payload;
  const misrouted = await controllers['us-1'].server.request('POST', 'trigger', euNotification);
  assert.equal(misrouted.status, 202);
  assert.deepEqual(
    misrouted.body.decisions.map((d: { decision: string; reason: string }) => [
      d.decision,
      d.reason,
    ]),
    [['invalid_target', 'alert is for cluster eu-1; this controller serves us-1']],
  );
  assert.equal(templatePatches(fakes['us-1']).length, 1, 'nothing more patched in us-1');
});
