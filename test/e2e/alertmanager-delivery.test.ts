// How the real Alertmanager delivers to the controller when things are not simple: two
// Alertmanagers in an HA cluster both notifying, a 503 that Alertmanager retries, and wrong
// credentials, which Alertmanager counts as a failed notification and the controller ignores.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAlertmanager } from '../support/alertmanager.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { until } from '../support/until.js';
import {
  alertLabels,
  cleanup,
  controllerMetric,
  decisions,
  deployV1ThenV2,
  imageOf,
  jobWhen,
  jobsFor,
  rolledBack,
  SECRET,
  startController,
  startStack,
  templatePatches,
} from './stack.js';

let fake: FakeKube;
before(async () => {
  fake = await startFakeKube({ rolloutStepMs: 10 });
});
after(async () => {
  await fake.close();
});

const WEBHOOK = { integration: 'webhook' };

describe('Alertmanager delivery', { concurrency: true }, () => {
  test('two clustered Alertmanagers both notify: one rollback, the second is a duplicate', async (t) => {
    const name = 'ha-pair';
    const defer = cleanup(t);
    await deployV1ThenV2(fake, name);
    const { server, proxy, webhookUrl } = await startController(defer, fake);
    // The first notification is slow to answer, so the peer at position 1, after its 200 ms
    // peer_timeout, finds nothing in the gossiped notification log and sends as well: the
    // duplicate HA Alertmanager produces when a receiver is slow or the gossip lags.
    proxy.intercept((n) => (n === 1 ? { delayMs: 1500 } : undefined));
    const cluster = { peerTimeout: '200ms', peers: [] as string[] };
    const am1 = await startAlertmanager({ webhookUrl, password: SECRET, cluster });
    defer(() => am1.stop());
    const am2 = await startAlertmanager({
      webhookUrl,
      password: SECRET,
      cluster: { ...cluster, peers: [am1.clusterAddress ?? ''] },
    });
    defer(() => am2.stop());
    await until(
      async () =>
        (await Promise.all([am1.status(), am2.status()])).every(
          (s) => s.cluster.status === 'ready' && s.cluster.peers.length === 2,
        ),
      10_000,
      'the two Alertmanagers to form a cluster',
    );

    // Prometheus sends every alert to every Alertmanager.
    const startsAt = new Date();
    await Promise.all([am1, am2].map((am) => am.addAlert(alertLabels(name), {}, { startsAt })));
    await proxy.waitFor(2);
    await rolledBack(fake, name);
    await jobWhen(server, name, (j) => j.state === 'succeeded');

    assert.equal(await am1.metric('alertmanager_notifications_total', WEBHOOK), 1);
    assert.equal(await am2.metric('alertmanager_notifications_total', WEBHOOK), 1);
    const [a, b] = proxy.exchanges.map((e) => e.payload.alerts[0]);
    assert.equal(a.fingerprint, b.fingerprint, 'the same alert instance from both');
    assert.equal(Date.parse(a.startsAt), Date.parse(b.startsAt));
    assert.deepEqual(
      decisions(proxy)
        .map((d) => d.decision)
        .sort(),
      ['duplicate', 'queued'],
    );
    assert.equal(templatePatches(fake, name).length, 1);
    assert.equal((await jobsFor(server, name)).length, 1);
    assert.equal(imageOf(fake, name), `registry.example/${name}:v1`);
  });

  test('the controller answers 503 once: Alertmanager retries and the rollback happens once', async (t) => {
    const name = 'retried';
    const { am, proxy, server } = await startStack(t, fake, name);
    proxy.intercept((n) =>
      n === 1 ? { status: 503, body: { error: 'journal unavailable, retry' } } : undefined,
    );

    await am.addAlert(alertLabels(name));
    await proxy.waitFor(2);
    await rolledBack(fake, name);
    await jobWhen(server, name, (j) => j.state === 'succeeded');

    const [refused, retried] = proxy.exchanges;
    assert.deepEqual([refused?.status, refused?.intercepted], [503, true]);
    assert.deepEqual([retried?.status, retried?.intercepted], [202, false]);
    assert.deepEqual(retried?.payload.alerts, refused?.payload.alerts, 'the same notification');
    assert.deepEqual(
      decisions(proxy).map((d) => d.decision),
      ['queued'],
    );
    // Alertmanager saw one failed request but no failed notification: the retry delivered it.
    assert.equal(await am.metric('alertmanager_notification_requests_failed_total', WEBHOOK), 1);
    assert.equal(await am.metric('alertmanager_notification_requests_total', WEBHOOK), 2);
    assert.equal(await am.metric('alertmanager_notifications_failed_total', WEBHOOK), 0);
    assert.equal(await am.metric('alertmanager_notifications_total', WEBHOOK), 1);
    assert.equal(templatePatches(fake, name).length, 1);
    assert.equal((await jobsFor(server, name)).length, 1);
  });

  test('wrong credentials: 401, nothing happens, Alertmanager counts a failed notification', async (t) => {
    const name = 'wrong-secret';
    const { am, proxy, server } = await startStack(t, fake, name, {
      // One group_interval longer than the test: exactly one attempt to look at.
      am: { password: 'not-the-webhook-secret', groupInterval: '1m' },
    });

    await am.addAlert(alertLabels(name));
    await until(
      async () => (await am.metric('alertmanager_notifications_failed_total', WEBHOOK)) >= 1,
      8000,
      'alertmanager_notifications_failed_total{integration="webhook"} to rise',
    );

    assert.equal(proxy.exchanges.length, 1);
    for (const e of proxy.exchanges) {
      assert.equal(e.status, 401);
      assert.equal(e.intercepted, false);
      assert.ok(e.answer.error, 'a JSON error body');
    }
    // A 4xx is final for Alertmanager: no retry within the notification.
    assert.equal(await am.metric('alertmanager_notification_requests_total', WEBHOOK), 1);
    assert.equal(await am.metric('alertmanager_notifications_total', WEBHOOK), 1);
    assert.equal(
      await controllerMetric(server, 'rollback_webhook_requests_total', { code: '401' }),
      1,
    );
    assert.equal(await controllerMetric(server, 'rollback_alerts_received_total'), 0);
    assert.deepEqual(await jobsFor(server, name), []);
    assert.equal(templatePatches(fake, name).length, 0);
    assert.equal(imageOf(fake, name), `registry.example/${name}:v2`);
  });
});
