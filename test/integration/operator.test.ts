// Pause/resume and approval of held jobs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

describe('approval of held jobs', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    // Held jobs wait an hour here, so a busy machine never expires one before it is approved;
    // the expiry test has its own server with a one-second TTL.
    s = await startTestServer({ executors: { kubernetes: exec } });
  });
  after(() => s.close());

  const hold = async (name: string, server = s) => {
    const r = await server.request(
      'POST',
      'trigger',
      payload([firing('RedisConnectionFailure', name)]),
    );
    assert.equal(r.body.decisions[0].decision, 'awaiting_approval');
    return r.body.decisions[0].jobId as string;
  };

  test('approve runs a held job once; approving again is a 409', async () => {
    const id = await hold('cache');
    assert.equal(exec.executed().length, 0, 'held jobs do not run by themselves');
    const ok = await s.request('POST', `jobs/${id}/approve`);
    assert.equal(ok.status, 202);
    assert.equal(ok.body.job.approval.approvedBy, 'operator', 'a human approved it');
    await until(() => exec.executed().includes(id));
    const twice = await s.request('POST', `jobs/${id}/approve`);
    assert.equal(twice.status, 409);
    assert.match(twice.body.error, /not awaiting approval/);
    await until(async () => (await s.request('GET', `jobs/${id}`)).body.state === 'succeeded');
    assert.deepEqual(
      exec.executed().filter((x) => x === id),
      [id],
    );
  });

  test('a held job expires; approving it then is a 409 and it never runs', async () => {
    const short = await startTestServer({
      executors: { kubernetes: exec },
      configText: 'policy: { approvalTtlSeconds: 1 }',
    });
    try {
      const id = await hold('queue', short);
      await until(
        async () => (await short.request('GET', `jobs/${id}`)).body.state === 'expired',
        60_000,
        'the held job expires',
      );
      const late = await short.request('POST', `jobs/${id}/approve`);
      assert.equal(late.status, 409);
      assert.match(late.body.error, /expired/);
      assert.ok(!exec.executed().includes(id));
    } finally {
      await short.close();
    }
  });

  test('unknown job → 404', async () => {
    const r = await s.request('POST', 'jobs/nope-123/approve');
    assert.equal(r.status, 404);
    const weird = await s.request('GET', 'jobs/..%2F..%2Fetc');
    assert.equal(weird.status, 404);
  });
});

describe('pause is a kill switch', () => {
  test('queued jobs wait while paused and run after resume', async () => {
    const exec = new RecordingExecutor();
    let release!: () => void;
    exec.gate = new Promise((r) => (release = r));
    const s = await startTestServer({ executors: { kubernetes: exec } });
    try {
      await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', 'one')]));
      await until(() => exec.executed().length === 1);
      const r = await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', 'two')]));
      assert.equal(r.body.decisions[0].decision, 'queued');
      const paused = await s.request('POST', 'pause', { reason: 'freeze' });
      assert.equal(paused.status, 200);
      assert.equal(paused.body.paused.by, 'alertmanager');
      release(); // the running job finishes; the queued one must not start
      const { state, runner } = s.running.app.controller;
      // The first job is over and nothing runs: only the paused queue stands between the second
      // job and the executor, so what holds now holds until resume.
      await until(
        () => runner.inProgress === 0 && state.count('succeeded') === 1,
        30_000,
        'the first job finished',
      );
      assert.equal(exec.executed().length, 1);
      assert.equal(state.count('queued'), 1, 'the second job still waits');
      assert.match(await (await fetch(`${s.url}/metrics`)).text(), /^rollback_paused 1$/m);
      await s.request('POST', 'resume');
      await until(() => exec.executed().length === 2);
      assert.match(await (await fetch(`${s.url}/metrics`)).text(), /^rollback_paused 0$/m);
    } finally {
      await s.close();
    }
  });

  test('invalid pause body → 400 and still not paused', async () => {
    const s = await startTestServer({ executors: { kubernetes: new RecordingExecutor() } });
    try {
      const r = await s.request('POST', 'pause', { reason: 42 });
      assert.equal(r.status, 400);
      assert.equal((await s.request('GET', 'status')).body.paused.paused, false);
    } finally {
      await s.close();
    }
  });
});
