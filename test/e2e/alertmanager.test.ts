// The real Alertmanager notifying the real controller, which rolls back a Deployment on the fake
// cluster: one alert, Alertmanager's re-sends, resolved notifications and the verification
// verdicts, and a group mixing firing and resolved alerts. Each test has its own Alertmanager and
// controller (they run concurrently); the fake cluster is shared, each test on its own Deployment.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startSlackSink } from '../support/slack-sink.js';
import { until } from '../support/until.js';
import {
  alertLabels,
  controllerConfig,
  controllerMetric,
  decisions,
  imageOf,
  jobWhen,
  jobsFor,
  metricReaches,
  rolledBack,
  SECRET,
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

describe('Alertmanager → controller → rollback', { concurrency: true }, () => {
  test('one critical alert: exactly one rollback, back to v1', async (t) => {
    const name = 'one-alert';
    const { am, proxy, server } = await startStack(t, fake, name);

    await am.addAlert(alertLabels(name), { summary: '5xx above 20%' });
    await rolledBack(fake, name);
    const job = await jobWhen(server, name, (j) => j.state === 'succeeded');
    await proxy.waitFor(1);

    assert.equal(imageOf(fake, name), `registry.example/${name}:v1`);
    assert.equal(templatePatches(fake, name).length, 1);
    assert.equal(job.outcome, 'succeeded');
    assert.equal(job.trigger, 'error_rate_threshold');
    assert.deepEqual([job.fromRevision, job.toRevision], [2, 1]);
    assert.equal(job.verdict, 'pending');
    // What Alertmanager sent: its own v4 payload, with the credentials from the password file.
    assert.equal(proxy.exchanges.length, 1);
    const [sent] = proxy.exchanges;
    assert.equal(
      sent?.headers.authorization,
      `Basic ${Buffer.from(`alertmanager:${SECRET}`).toString('base64')}`,
    );
    assert.equal(sent?.payload.version, '4');
    assert.equal(sent?.payload.receiver, 'rollback-controller');
    assert.deepEqual(sent?.payload.groupLabels, {
      alertname: 'CriticalErrorRate',
      namespace: 'shop',
      deployment: name,
    });
    assert.deepEqual(
      decisions(proxy).map((d) => [d.status, d.decision]),
      [['firing', 'queued']],
    );
    await metricReaches(server, 'rollback_jobs_total', { outcome: 'succeeded' }, 1);
  });

  test('the same alert re-sent on group_interval and repeat_interval: still one rollback', async (t) => {
    const name = 'resent';
    const { am, proxy, server } = await startStack(t, fake, name, {
      am: { groupWait: '1s', groupInterval: '1s', repeatInterval: '3s' },
    });

    await am.addAlert(alertLabels(name, { instance: 'pod-a' }));
    await jobWhen(server, name, (j) => j.state === 'succeeded');
    // A second alert joins the group: the next group_interval flush re-sends the first one too.
    const fps = (e: (typeof proxy.exchanges)[number] | undefined) =>
      (
        (e?.payload.alerts ?? []) as Array<{
          fingerprint: string;
          startsAt: string;
          status: string;
        }>
      ).map((a) => `${a.fingerprint}@${a.startsAt}/${a.status}`);
    // On a slow machine the rollback can outlast repeat_interval, so the first alert may be
    // re-sent alone before the second joins: find the exchanges by content, not by position.
    await am.addAlert(alertLabels(name, { instance: 'pod-b' }));
    await until(() => proxy.exchanges.some((e) => fps(e).length === 2), 30_000, 'both alerts sent');
    const at = proxy.exchanges.findIndex((e) => fps(e).length === 2);
    // Nothing changes any more: the group is re-sent once repeat_interval has passed.
    await proxy.waitFor(at + 2, 30_000);

    const first = proxy.exchanges[0];
    const second = proxy.exchanges[at];
    const third = proxy.exchanges[at + 1];
    const resentAlone = proxy.exchanges.slice(1, at);
    for (const e of resentAlone)
      assert.deepEqual(fps(e), fps(first), 'a repeat of the first alone');
    assert.equal(fps(first).length, 1);
    assert.equal(fps(second).length, 2);
    assert.ok(fps(second).includes(fps(first)[0] ?? ''), 'the first alert is re-sent as it was');
    assert.deepEqual(fps(third), fps(second), 'the repeat carries the same alert instances');
    assert.ok(
      (third?.at ?? 0) - (second?.at ?? 0) >= 2500,
      `the repeat waited for repeat_interval (${(third?.at ?? 0) - (second?.at ?? 0)} ms)`,
    );
    const kinds = proxy.exchanges.map((e) =>
      (e.answer.decisions as Array<{ decision: string }>).map((d) => d.decision).sort(),
    );
    assert.deepEqual(
      [kinds[0], ...kinds.slice(1, at), kinds[at], kinds[at + 1]],
      [
        ['queued'],
        ...resentAlone.map(() => ['duplicate']),
        ['cooldown', 'duplicate'],
        ['duplicate', 'duplicate'],
      ],
    );
    assert.equal(templatePatches(fake, name).length, 1);
    assert.equal((await jobsFor(server, name)).length, 1);
    assert.equal(imageOf(fake, name), `registry.example/${name}:v1`);
  });

  test('a resolved notification after the rollback: recorded, nothing rolled back, verdict recovered', async (t) => {
    const name = 'recovers';
    const { am, proxy, server } = await startStack(t, fake, name);
    const labels = alertLabels(name);
    const startsAt = new Date();

    await am.addAlert(labels, {}, { startsAt });
    const done = await jobWhen(server, name, (j) => j.state === 'succeeded');
    assert.equal(done.verdict, 'pending');
    // The error rate is back to normal: Prometheus would now send the alert with an endsAt.
    const endsAt = new Date();
    await am.addAlert(labels, {}, { startsAt, endsAt });
    const job = await jobWhen(server, name, (j) => j.verdict !== 'pending', 8000, 'verdict');
    await proxy.waitFor(2);

    assert.equal(job.verdict, 'recovered');
    assert.equal(typeof job.recoverySeconds, 'number');
    assert.ok(job.recoverySeconds >= 0 && job.recoverySeconds < 10, `${job.recoverySeconds}`);
    assert.ok(job.timeline.some((e: { event: string }) => e.event === 'recovered'));
    const last = proxy.exchanges.at(-1);
    assert.equal(last?.payload.status, 'resolved');
    assert.equal(Date.parse(last?.payload.alerts[0].endsAt), endsAt.getTime());
    assert.deepEqual(
      decisions(proxy).map((d) => [d.status, d.decision]),
      [
        ['firing', 'queued'],
        ['resolved', 'resolved'],
      ],
    );
    assert.equal(templatePatches(fake, name).length, 1);
    assert.equal(imageOf(fake, name), `registry.example/${name}:v1`);
    const trigger = 'error_rate_threshold';
    await metricReaches(server, 'rollback_verdicts_total', { trigger, verdict: 'recovered' }, 1);
    await metricReaches(server, 'rollback_recovery_seconds_count', { trigger }, 1);
    await metricReaches(server, 'rollback_alerts_received_total', { status: 'resolved' }, 1);
    // Time to restore, alert start → patch → Ready → resolved: one sample per stage, in order.
    const restore = { cluster: 'unnamed', kind: 'Deployment' };
    for (const stage of ['patched', 'ready', 'resolved'])
      await metricReaches(
        server,
        'rollback_time_to_restore_seconds_count',
        { ...restore, stage },
        1,
      );
    const sums = await Promise.all(
      ['patched', 'ready', 'resolved'].map((stage) =>
        controllerMetric(server, 'rollback_time_to_restore_seconds_sum', { ...restore, stage }),
      ),
    );
    assert.ok(sums[0] <= sums[1] && sums[1] <= sums[2], `${sums.join(' ≤ ')}`);
    assert.ok(sums[2] >= (endsAt.getTime() - startsAt.getTime()) / 1000 - 1, `${sums[2]}`);
    const notRecovered = { verdict: 'not_recovered' };
    assert.equal(await controllerMetric(server, 'rollback_verdicts_total', notRecovered), 0);
  });

  test('an alert still firing after the verification window: not_recovered, escalated on Slack', async (t) => {
    const sink = await startSlackSink();
    t.after(() => sink.close());
    const name = 'not-recovered';
    const { am, server } = await startStack(t, fake, name, {
      configText: controllerConfig({ verificationWindowSeconds: 2 }),
      env: { SLACK_WEBHOOK_URL: sink.url },
    });

    await am.addAlert(alertLabels(name));
    const done = await jobWhen(server, name, (j) => j.state === 'succeeded');
    const job = await jobWhen(server, name, (j) => j.verdict !== 'pending', 30_000, 'verdict');

    assert.equal(job.verdict, 'not_recovered');
    const waited = Date.parse(job.timeline.at(-1).at) - Date.parse(done.finishedAt);
    // Not before the 2 s window closed; how late a busy machine fires the timer is not measured.
    assert.ok(waited >= 1900, `verdict ${waited} ms after the rollback finished`);
    await metricReaches(server, 'rollback_verdicts_total', { verdict: 'not_recovered' }, 1);
    await until(
      () => sink.messages.some((m) => /did not clear the alert/.test(m.body.text ?? '')),
      5000,
      'the Slack escalation',
    );
    const escalation = sink.messages.find((m) => /did not clear/.test(m.body.text ?? ''));
    assert.match(escalation?.body.text ?? '', /<!here>/);
    assert.match(JSON.stringify(escalation?.body.blocks), new RegExp(name));
    assert.equal(templatePatches(fake, name).length, 1);
  });

  test('one group mixing firing and resolved alerts: each decided on its own status', async (t) => {
    const name = 'mixed';
    const { am, proxy, server } = await startStack(t, fake, name);
    const a = alertLabels(name, { instance: 'pod-a' });
    const b = alertLabels(name, { instance: 'pod-b' });
    const startsAt = new Date();

    await am.addAlert(a, {}, { startsAt });
    await am.addAlert(b, {}, { startsAt });
    await jobWhen(server, name, (j) => j.state === 'succeeded');
    await am.addAlert(b, {}, { startsAt, endsAt: new Date() });
    await proxy.waitFor(2);

    const [first, second] = proxy.exchanges;
    assert.deepEqual(
      (first?.payload.alerts as Array<{ status: string }>).map((x) => x.status),
      ['firing', 'firing'],
    );
    assert.equal(second?.payload.status, 'firing', 'a group with a firing alert is firing');
    const byInstance = (e: typeof second) =>
      Object.fromEntries(
        (e?.payload.alerts as Array<{ labels: { instance: string }; status: string }>).map(
          (x, i) => [x.labels.instance, [x.status, e?.answer.decisions[i].decision]],
        ),
      );
    assert.deepEqual(byInstance(first), {
      'pod-a': ['firing', 'queued'],
      'pod-b': ['firing', 'coalesced'],
    });
    assert.deepEqual(byInstance(second), {
      'pod-a': ['firing', 'duplicate'],
      'pod-b': ['resolved', 'resolved'],
    });
    assert.equal(templatePatches(fake, name).length, 1);
    assert.equal((await jobsFor(server, name)).length, 1);
  });
});
