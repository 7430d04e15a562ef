// Verification after a rollback: only the triggering alert's resolution closes the loop, and a
// resolution that arrives while the rollout is still running is not lost.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer } from '../support/server.js';
import { until } from '../support/until.js';

const resolvedCopy = (a: Record<string, unknown>) => ({
  ...a,
  status: 'resolved',
  endsAt: new Date().toISOString(),
});

describe('verification', () => {
  test('an attached alert resolving does not mark the job recovered; the triggering one does', async () => {
    const exec = new RecordingExecutor();
    let release!: () => void;
    exec.gate = new Promise((r) => (release = r));
    const s = await startTestServer({ executors: { kubernetes: exec } });
    try {
      const a = firing('CriticalErrorRate', 'api', { labels: { pod: 'a' } });
      const b = firing('CriticalErrorRate', 'api', { labels: { pod: 'b' } });
      const first = await s.request('POST', 'trigger', payload([a, b]));
      assert.deepEqual(
        first.body.decisions.map((d: { decision: string }) => d.decision),
        ['queued', 'coalesced'],
      );
      const id = first.body.decisions[0].jobId as string;
      release();
      await until(async () => (await s.request('GET', `jobs/${id}`)).body.verdict === 'pending');
      await s.request('POST', 'trigger', payload([a, resolvedCopy(b)]));
      assert.equal((await s.request('GET', `jobs/${id}`)).body.verdict, 'pending');
      await s.request('POST', 'trigger', payload([resolvedCopy(a)]));
      const job = (await s.request('GET', `jobs/${id}`)).body;
      assert.equal(job.verdict, 'recovered');
      assert.equal(typeof job.recoverySeconds, 'number');
    } finally {
      await s.close();
    }
  });

  test('resolved while the rollout is still running → recovered as soon as it succeeds', async () => {
    const exec = new RecordingExecutor();
    let release!: () => void;
    exec.gate = new Promise((r) => (release = r));
    // The controller's timers fire when the test says so, not when a busy machine gets to them.
    const timers: Array<() => void> = [];
    const s = await startTestServer({
      executors: { kubernetes: exec },
      configText: 'verification: { windowSeconds: 1 }',
      setTimer: (fn) => {
        timers.push(fn);
        return {
          cancel: () => {
            if (timers.includes(fn)) timers.splice(timers.indexOf(fn), 1);
          },
        };
      },
    });
    try {
      const a = firing('CriticalErrorRate', 'web');
      const r = await s.request('POST', 'trigger', payload([a]));
      const id = r.body.decisions[0].jobId as string;
      await until(() => exec.executed().includes(id));
      const resolved = await s.request('POST', 'trigger', payload([resolvedCopy(a)]));
      assert.equal(resolved.body.decisions[0].decision, 'resolved');
      assert.ok((await s.request('GET', `jobs/${id}`)).body.alertResolvedAt);
      release();
      await until(async () => (await s.request('GET', `jobs/${id}`)).body.state === 'succeeded');
      const job = (await s.request('GET', `jobs/${id}`)).body;
      assert.equal(job.verdict, 'recovered');
      assert.equal(job.recoverySeconds, 0);
      // The window ends (a timer changes the job as it fires): no false escalation.
      for (const fire of timers.splice(0)) fire();
      assert.equal((await s.request('GET', `jobs/${id}`)).body.verdict, 'recovered');
      // A fired timer commits asynchronously (journal first): wait for the count it produces.
      const recovered =
        /rollback_verdicts_total\{trigger="error_rate_threshold",verdict="recovered"\} 1/;
      let metrics = '';
      await until(async () =>
        recovered.test((metrics = await (await fetch(`${s.url}/metrics`)).text())),
      );
      assert.match(metrics, recovered);
      assert.doesNotMatch(metrics, /verdict="not_recovered"/);
    } finally {
      await s.close();
    }
  });
});
