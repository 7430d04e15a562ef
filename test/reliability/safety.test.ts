// Safety under bad alerting: a monitoring outage that fires every rule for every workload opens
// the circuit breaker after the configured number of rollbacks and touches nothing more; a
// flapping alert never rolls back a rollback (cooldown, and the executor's own refusal); a
// deploy that lands while a job waits in the queue is never undone by it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alert, firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';
import { allJobs, deployedTwice, image, jobIn, startsNow } from './support/cluster.js';
import { Figures } from './support/figures.js';

const figures = new Figures('safety');
const RULES = [
  'CriticalErrorRate',
  'CriticalP95Latency',
  'MitaSystemUnhealthy',
  'MitaDatabaseConnectionIssues',
  'TransactionProcessingFailure',
  'RedisConnectionFailure',
  'UserRegistrationDown',
];
const FAST = 'rollout: { pollIntervalSeconds: 0.05 }';

describe('safety', () => {
  let fake: FakeKube;
  const servers: TestServer[] = [];
  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 5 });
  });
  after(async () => {
    for (const s of servers) await s.close();
    await fake.close();
  });

  async function server(configText: string): Promise<TestServer> {
    const s = await startTestServer({ env: { KUBECONFIG: fake.kubeconfigPath }, configText });
    servers.push(s);
    return s;
  }

  /** Rollback PATCHes (not dry runs) of Deployments in `ns`, optionally of one name. */
  function patches(ns: string, name?: string): number {
    return fake.requests.filter(
      (r) =>
        r.method === 'PATCH' &&
        r.query['dryRun'] !== 'All' &&
        r.path.includes(`/namespaces/${ns}/deployments/${name ?? ''}`),
    ).length;
  }

  test('alert storm: 7 rules × 30 workloads opens the circuit after 3 rollbacks, then nothing', async () => {
    const ns = 'storm';
    const names = Array.from({ length: 30 }, (_, i) => `w${i}`);
    for (const n of names) await deployedTwice(fake, ns, n);
    // A workload outside the storm, for the fourth rollback asked for after three acted.
    await deployedTwice(fake, ns, 'late');
    const s = await server(FAST); // shipped policy: more than 3 rollbacks in 10 min opens it
    const startsAt = startsNow();
    const t0 = performance.now();
    // Alertmanager groups by alertname: one notification per rule, all at once.
    const responses = await Promise.all(
      RULES.map((rule) =>
        s.request(
          'POST',
          'trigger',
          payload(
            names.map((n) =>
              alert({ alertname: rule, labels: { namespace: ns, deployment: n }, startsAt }),
            ),
          ),
        ),
      ),
    );
    figures.add(
      'storm',
      'alerts / answered in',
      `${RULES.length * names.length} / ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const counts: Record<string, number> = {};
    for (const r of responses) {
      assert.equal(r.status, 202);
      for (const d of r.body.decisions as Array<{ decision: string }>)
        counts[d.decision] = (counts[d.decision] ?? 0) + 1;
    }
    figures.add(
      'storm',
      'decisions',
      Object.entries(counts)
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
    assert.equal(counts['queued'], 3, 'exactly the configured number of rollbacks');
    // The three pending rollbacks hold the rest back; only rollbacks that acted latch the breaker
    // (contract.md "Rules", policy), so it is not open yet: the re-sent storm is decided again below.
    assert.ok((counts['circuit_open'] ?? 0) > 0, 'the rest are held back by the breaker');

    const running = (await allJobs(s.request)).filter((j) => j.state !== 'awaiting_approval');
    assert.equal(running.length, 3);
    for (const j of running) {
      const done = await jobIn(s.request, j.id as string, ['succeeded', 'failed', 'skipped']);
      assert.equal(done.state, 'succeeded', done.reason);
    }
    // The storm goes on (Alertmanager repeats): still nothing more is touched.
    const again = await s.request(
      'POST',
      'trigger',
      payload(
        names.map((n) =>
          alert({ alertname: 'CriticalErrorRate', labels: { namespace: ns, deployment: n } }),
        ),
      ),
    );
    // (The three rolled back are in cooldown; the others join the jobs held for approval by the
    // medium-confidence rules, or are held back by the breaker.)
    assert.ok(
      (again.body.decisions as Array<{ decision: string }>).every((d) =>
        ['circuit_open', 'cooldown', 'coalesced'].includes(d.decision),
      ),
      JSON.stringify(again.body.decisions.map((d: { decision: string }) => d.decision)),
    );
    // Three rollbacks acted and a fourth is asked for: the breaker opens until an operator resumes.
    const fourth = await s.request(
      'POST',
      'trigger',
      payload([
        alert({ alertname: 'CriticalErrorRate', labels: { namespace: ns, deployment: 'late' } }),
      ]),
    );
    assert.equal(fourth.body.decisions[0].decision, 'circuit_open');
    const status = (await s.request('GET', 'status')).body;
    assert.equal(status.circuit.open, true);
    assert.match(status.circuit.reason, /circuit breaker opened: 3 rollbacks/);
    const metrics = (await s.request('GET', '/metrics')).body as string;
    assert.match(metrics, /^rollback_circuit_open 1$/m);
    await s.idle(); // nothing queued or running: nothing can patch until a human approves
    assert.equal(patches(ns), 3, 'three workloads patched, the other 27 untouched');
    const touched = names.filter((n) => image(fake, ns, n).endsWith(':v1'));
    assert.equal(touched.length, 3);
    figures.add('storm', 'workloads patched', `${patches(ns)} of ${names.length}`);
  });

  test('flapping alert: cooldown, and the executor refuses to roll back its own rollback', async () => {
    const ns = 'flap';
    await deployedTwice(fake, ns, 'api');
    const a = await server(FAST);
    const fp = 'flapping0000001';
    const fire = (s: TestServer, startsAt: string) =>
      s.request(
        'POST',
        'trigger',
        payload([
          firing('CriticalErrorRate', 'api', {
            fingerprint: fp,
            startsAt,
            labels: { namespace: ns },
          }),
        ]),
      );
    const resolve = (s: TestServer, startsAt: string) =>
      s.request(
        'POST',
        'trigger',
        payload([
          firing('CriticalErrorRate', 'api', {
            fingerprint: fp,
            startsAt,
            status: 'resolved',
            endsAt: new Date().toISOString(),
            labels: { namespace: ns },
          }),
        ]),
      );

    const t1 = startsNow();
    const first = await fire(a, t1);
    assert.equal(first.body.decisions[0].decision, 'queued');
    const job = await jobIn(a.request, first.body.decisions[0].jobId as string, [
      'succeeded',
      'failed',
      'skipped',
    ]);
    assert.equal(job.state, 'succeeded', job.reason);
    assert.equal(image(fake, ns, 'api'), `${ns}/api:v1`);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await resolve(a, i === 0 ? t1 : seen[seen.length - 1])).body.decisions[0].decision,
        'resolved',
      );
      const t = new Date(Date.now() + 2000 + i * 1000).toISOString(); // a new firing episode
      const d = (await fire(a, t)).body.decisions[0];
      seen.push(t);
      assert.equal(d.decision, 'cooldown', d.reason);
    }
    figures.add(
      'flapping',
      'firing episodes / rollbacks (cooldown on)',
      `4 / ${patches(ns, 'api')}`,
    );

    // Without a cooldown, the executor itself refuses to undo what it restored.
    const b = await server(`${FAST}\npolicy: { cooldownSeconds: 0 }`);
    const d = (await fire(b, new Date(Date.now() + 10_000).toISOString())).body.decisions[0];
    assert.equal(d.decision, 'queued');
    const refused = await jobIn(b.request, d.jobId as string, ['succeeded', 'failed', 'skipped']);
    assert.equal(refused.state, 'skipped');
    assert.match(
      refused.reason,
      /refusing to roll back a rollback: revision \d+ was restored by job/,
    );
    assert.equal(patches(ns, 'api'), 1, 'patched once over the whole flapping');
    assert.equal(image(fake, ns, 'api'), `${ns}/api:v1`, 'still on the good version');
    figures.add('flapping', 'no cooldown: second job', `skipped (${refused.reason.slice(0, 40)}…)`);
  });

  test('a deploy between the alert and the job is never undone by it', async () => {
    const ns = 'moving';
    await deployedTwice(fake, ns, 'blocker');
    await deployedTwice(fake, ns, 'moved');
    const s = await server(`${FAST}\nqueue: { concurrency: 1 }`);
    fake.stickRollouts('Deployment', ns, 'blocker', true);
    const fire = (name: string) =>
      s.request(
        'POST',
        'trigger',
        payload([
          firing('CriticalErrorRate', name, { startsAt: startsNow(), labels: { namespace: ns } }),
        ]),
      );
    const blocker = (await fire('blocker')).body.decisions[0].jobId as string;
    await until(() => patches(ns, 'blocker') === 1, 10_000, 'the first job patching');
    const moved = (await fire('moved')).body.decisions[0].jobId as string;
    const pinned = await jobIn(s.request, moved, ['queued']);
    await until(
      async () => (await s.request('GET', `jobs/${moved}`)).body.fromRevision === 2,
      5000,
      'the queued job pinned to revision 2',
    );
    assert.equal(pinned.state, 'queued', 'still waiting behind the first job');
    // Someone ships v3 while the job waits.
    await fake.setImage('Deployment', ns, 'moved', `${ns}/moved:v3`);
    await fake.settle();
    fake.stickRollouts('Deployment', ns, 'blocker', false);
    assert.equal((await jobIn(s.request, blocker, ['succeeded', 'failed'])).state, 'succeeded');
    const job = await jobIn(s.request, moved, ['succeeded', 'failed', 'skipped']);
    assert.equal(job.state, 'skipped');
    assert.match(job.reason, /workload moved on: revision 3 is current, alert was for 2/);
    assert.equal(patches(ns, 'moved'), 0, 'the new deploy was not touched');
    assert.equal(image(fake, ns, 'moved'), `${ns}/moved:v3`);
    figures.add('deploy while queued', 'queued job', `${job.state}: ${job.reason}`);
  });
});
