// SIGKILL at every step of a job, then a restart on the same data directory: every alert that
// got a 202 is decided and its job survives, nothing is lost, and no workload is patched twice
// (template PATCHes counted on the fake cluster). The controller runs as a real child process
// and is killed at points the test observes from outside (the request, the 202, the PATCH
// arriving at the cluster, the job's timeline).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { until } from '../support/until.js';
import { deployedTwice, image, jobIn, startsNow } from './support/cluster.js';
import {
  AUTH,
  freePort,
  startControllerProcess,
  type ControllerProcess,
} from './support/controller-process.js';
import { Figures } from './support/figures.js';

const figures = new Figures('crash-restart');
const NS = 'shop';

describe('SIGKILL at every step of a job, then restart', () => {
  let fake: FakeKube;
  let root: string;
  let config: string;
  const live = new Set<ControllerProcess>();

  before(async () => {
    fake = await startFakeKube({ rolloutStepMs: 10 });
    root = mkdtempSync(join(tmpdir(), 'rc-rel-crash-'));
    config = join(root, 'config.yaml');
    writeFileSync(
      config,
      [
        'rollout: { pollIntervalSeconds: 0.05 }',
        'policy: { circuitBreaker: { maxRollbacks: 100 } }',
        // Stuck rollouts of earlier steps must not hold later jobs back.
        'queue: { concurrency: 4 }',
      ].join('\n'),
    );
  });
  after(async () => {
    for (const p of live) await p.kill9();
    await fake.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(dataDir: string, port: number): Promise<ControllerProcess> {
    const t0 = performance.now();
    const p = await startControllerProcess({
      dataDir,
      port,
      config,
      env: { KUBECONFIG: fake.kubeconfigPath },
    });
    figures.add('process', 'spawn → listening', performance.now() - t0, 'ms');
    live.add(p);
    return p;
  }
  async function kill(p: ControllerProcess): Promise<void> {
    await p.kill9();
    live.delete(p);
  }

  /** Template PATCHes that reached the cluster (no faults here: every one applied). */
  function patches(name: string): number {
    return fake.requests.filter(
      (r) =>
        r.method === 'PATCH' &&
        r.query['dryRun'] !== 'All' &&
        r.path.endsWith(`/deployments/${name}`),
    ).length;
  }

  function alertFor(name: string) {
    return payload([firing('CriticalErrorRate', name, { startsAt: startsNow() })]);
  }

  async function trigger(p: ControllerProcess, body: unknown) {
    return p.call('POST', 'trigger', body);
  }

  /** Starts a request for `body` and sends only half of it: it cannot be decided yet. */
  /** Sends half of `body`; `written` resolves once that half is handed to the socket. */
  function halfSent(
    p: ControllerProcess,
    body: string,
  ): { answered: Promise<string>; written: Promise<void> } {
    const req = request(`${p.url}/api/admin/rollback/trigger`, {
      method: 'POST',
      headers: {
        authorization: AUTH,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    const answered = new Promise<string>((ok) => {
      req.on('response', (res) => ok(`answered ${res.statusCode}`));
      req.on('error', (err) => ok(`no answer: ${(err as NodeJS.ErrnoException).code}`));
    });
    const written = new Promise<void>((ok) =>
      req.write(body.slice(0, body.length >> 1), () => ok()),
    );
    return { answered, written };
  }

  async function timelineHas(p: ControllerProcess, id: string, event: string): Promise<boolean> {
    const r = await p.call('GET', `jobs/${id}`);
    return r.status === 200 && r.body.timeline.some((t: { event: string }) => t.event === event);
  }

  // One data directory through five process lifetimes, each ended by SIGKILL at a different
  // step of some job (five starts rather than ten keep the file fast on a busy machine).
  test('before the journal write, after the 202, after the patch, while following, mid-burst', async () => {
    const dataDir = join(root, 'data');
    const port = await freePort();
    const burst = Array.from({ length: 6 }, (_, i) => `k-burst-${i}`);
    for (const n of ['k-before', 'k-202', 'k-patch', 'k-follow', ...burst])
      await deployedTwice(fake, NS, n);
    const bodies = new Map<string, Record<string, unknown>>();
    const body = (name: string) => {
      if (!bodies.has(name)) bodies.set(name, alertFor(name));
      return bodies.get(name)!;
    };
    const accepted = new Map<string, string>(); // workload → job id of its 202

    // 1. One request half-sent (not decided), another answered 202; SIGKILL.
    let p = await start(dataDir, port);
    const half = halfSent(p, JSON.stringify(body('k-before')));
    const r202 = await trigger(p, body('k-202'));
    await half.written; // the half request is on its way to the server, not still in this process
    await kill(p);
    assert.equal(r202.status, 202);
    accepted.set('k-202', r202.body.decisions[0].jobId as string);
    assert.match(
      await half.answered,
      /^no answer/,
      'no 202 for the half-sent alert: Alertmanager retries',
    );
    figures.add('killed after the 202', 'PATCHes before the kill', patches('k-202'));

    // 2. The 202'd job survived, the half-sent alert left no trace; SIGKILL as a PATCH lands.
    p = await start(dataDir, port);
    assert.equal((await p.call('GET', `jobs/${accepted.get('k-202')}`)).status, 200);
    assert.equal((await p.call('GET', 'jobs')).body.jobs.length, 1, 'nothing else was recorded');
    const retry = await trigger(p, body('k-before'));
    assert.equal(retry.body.decisions[0].decision, 'queued', 'the re-sent alert is decided afresh');
    accepted.set('k-before', retry.body.decisions[0].jobId as string);
    fake.stickRollouts('Deployment', NS, 'k-patch', true);
    const rPatch = await trigger(p, body('k-patch'));
    accepted.set('k-patch', rPatch.body.decisions[0].jobId as string);
    await until(() => patches('k-patch') === 1, 15_000, 'the rollback PATCH of k-patch');
    await kill(p);

    // 3. SIGKILL while a job follows its rollout.
    p = await start(dataDir, port);
    const patchJob = (await p.call('GET', `jobs/${accepted.get('k-patch')}`)).body;
    figures.add('killed at the PATCH', 'journal had patched: true', String(!!patchJob.patched));
    fake.stickRollouts('Deployment', NS, 'k-follow', true);
    const rFollow = await trigger(p, body('k-follow'));
    const followId = rFollow.body.decisions[0].jobId as string;
    accepted.set('k-follow', followId);
    await until(() => timelineHas(p, followId, 'progress'), 15_000, 'k-follow following');
    await kill(p);

    // 4. Rollouts unstuck; a burst of alerts; SIGKILL after a few of them were answered.
    fake.stickRollouts('Deployment', NS, 'k-patch', false);
    fake.stickRollouts('Deployment', NS, 'k-follow', false);
    p = await start(dataDir, port);
    const current = p;
    let answered = 0;
    const sends = burst.map(async (name, i) => {
      await new Promise((r) => setTimeout(r, i * 25));
      try {
        const res = await trigger(current, body(name));
        if (res.status === 202) {
          accepted.set(name, res.body.decisions[0].jobId as string);
          answered++;
        }
      } catch {
        /* no answer: Alertmanager would retry */
      }
    });
    await until(() => answered >= 1, 5000, 'the first answer of the burst');
    await kill(p);
    await Promise.all(sends);
    figures.add(
      'killed mid-burst',
      'burst alerts answered before the kill',
      `${answered} of ${burst.length}`,
    );

    // 5. Every 202 has its job; Alertmanager re-sends everything; each workload patched once.
    p = await start(dataDir, port);
    for (const [name, id] of accepted) {
      assert.equal((await p.call('GET', `jobs/${id}`)).status, 200, `the job of ${name} survived`);
    }
    let unanswered = 0;
    for (const name of bodies.keys()) {
      const d = (await trigger(p, body(name))).body.decisions[0];
      if (accepted.has(name)) {
        assert.equal(d.decision, 'duplicate', `${name}: ${d.reason}`);
        assert.equal(d.jobId, accepted.get(name));
        continue;
      }
      // Killed before its answer: either never recorded (decided now) or recorded just before
      // the kill (a duplicate naming the job that was created then). Never a second job.
      unanswered++;
      assert.ok(['queued', 'duplicate'].includes(d.decision as string), `${name}: ${d.reason}`);
      assert.ok(d.jobId, `${name} has a job either way`);
      accepted.set(name, d.jobId as string);
    }
    figures.add('killed mid-burst', 'alerts re-sent without a 202 before', unanswered);
    for (const [name, id] of accepted) {
      const job = await jobIn(p.call, id, ['succeeded', 'failed', 'skipped'], 20_000);
      assert.equal(job.state, 'succeeded', `${name}: ${job.reason}`);
      assert.equal(image(fake, NS, name), `${NS}/${name}:v1`, `${name} rolled back`);
      assert.equal(patches(name), 1, `${name} was patched exactly once`);
    }
    const patchJobAfter = (await p.call('GET', `jobs/${accepted.get('k-patch')}`)).body;
    assert.ok(
      patchJobAfter.timeline.some((t: { event: string }) => t.event === 'recovering'),
      'the job killed at its PATCH was re-checked, not re-run',
    );
    const jobs = (await p.call('GET', 'jobs?limit=100')).body.jobs as unknown[];
    assert.equal(jobs.length, bodies.size, 'one job per workload: none lost, none doubled');
    const total = [...bodies.keys()].reduce((n, x) => n + patches(x), 0);
    figures.add(
      'all steps',
      'workloads / jobs / template PATCHes',
      `${bodies.size} / ${jobs.length} / ${total}`,
    );
    assert.equal(await p.stop(), 0, 'SIGTERM after all that exits 0');
    live.delete(p);
  });
});
