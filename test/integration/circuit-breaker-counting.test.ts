// The circuit breaker counts only rollbacks that acted (contract.md "Rules", policy: a patch applied or a script
// started): jobs skipped or failed before acting never open it, so they cannot block the next,
// real rollback.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecutionResult } from '../../src/model/executor.js';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const CONFIG = `
rules:
  - { alert: CriticalErrorRate, trigger: error_rate_threshold, confidence: high }
policy:
  circuitBreaker: { maxRollbacks: 3, windowSeconds: 600 }
`;

/** Skips every job without acting, as an opted-out workload does. */
class SkippingExecutor extends RecordingExecutor {
  override async execute(): Promise<ExecutionResult> {
    return { outcome: 'skipped', reason: 'Deployment shop/x opted out of automatic rollback' };
  }
}

async function decide(
  s: TestServer,
  service: string,
): Promise<{ decision: string; jobId?: string }> {
  const res = await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', service)]));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.decisions[0];
}

async function finished(
  s: TestServer,
  jobId: string,
): Promise<{ state: string; outcome?: string; actedAt?: string }> {
  let job: { state: string; outcome?: string; actedAt?: string } = { state: '' };
  await until(async () => {
    job = (await s.request('GET', `jobs/${jobId}`)).body;
    return ['succeeded', 'failed', 'skipped'].includes(job.state);
  });
  return job;
}

async function threeThenFourth(s: TestServer, expected: string): Promise<string> {
  for (const service of ['svc-1', 'svc-2', 'svc-3']) {
    const d = await decide(s, service);
    assert.equal(d.decision, 'queued');
    const job = await finished(s, d.jobId!);
    assert.equal(job.outcome, expected);
    assert.equal(job.actedAt, undefined, 'the job never acted');
  }
  const status = await s.request('GET', 'status');
  assert.equal(status.body.circuit.recentRollbacks, 0);
  return (await decide(s, 'svc-4')).decision;
}

describe('circuit breaker counts only rollbacks that acted', () => {
  test('three skipped jobs (opted out) do not open it: the fourth is queued', async () => {
    const s = await startTestServer({
      configText: CONFIG,
      executors: { kubernetes: new SkippingExecutor() },
    });
    try {
      assert.equal(await threeThenFourth(s, 'skipped'), 'queued');
    } finally {
      await s.close();
    }
  });

  test('three jobs failed before acting (no cluster configured) do not open it', async () => {
    const s = await startTestServer({
      configText: CONFIG,
      env: { KUBECONFIG: '/nonexistent/kubeconfig', KUBERNETES_SERVICE_HOST: undefined },
    });
    try {
      assert.equal(await threeThenFourth(s, 'failed'), 'queued');
    } finally {
      await s.close();
    }
  });

  test('a burst: three still pending hold the fourth back without opening the circuit', async () => {
    const exec = new SkippingExecutor();
    let release: () => void = () => undefined;
    exec.gate = new Promise<void>((r) => (release = r));
    class GatedSkip extends SkippingExecutor {
      override async execute(): Promise<ExecutionResult> {
        await exec.gate;
        return super.execute();
      }
    }
    const s = await startTestServer({
      configText: CONFIG,
      executors: { kubernetes: new GatedSkip() },
    });
    try {
      const ids: string[] = [];
      for (const service of ['svc-1', 'svc-2', 'svc-3']) {
        const d = await decide(s, service);
        assert.equal(d.decision, 'queued');
        ids.push(d.jobId!);
      }
      const fourth = await s.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'svc-4', { fingerprint: 'fp-burst-4' })]),
      );
      assert.equal(fourth.body.decisions[0].decision, 'circuit_open');
      assert.match(fourth.body.decisions[0].reason, /not acted yet/);
      assert.equal((await s.request('GET', 'status')).body.circuit.open, false);
      release();
      for (const id of ids) assert.equal((await finished(s, id)).outcome, 'skipped');
      // Re-sent by Alertmanager: decided again, and nothing that acted is in the way now.
      const again = await s.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'svc-4', { fingerprint: 'fp-burst-4' })]),
      );
      assert.equal(again.body.decisions[0].decision, 'queued');
    } finally {
      release();
      await s.close();
    }
  });

  test('three that acted do open it', async () => {
    const s = await startTestServer({
      configText: CONFIG,
      executors: { kubernetes: new RecordingExecutor() },
    });
    try {
      for (const service of ['svc-1', 'svc-2', 'svc-3']) {
        const d = await decide(s, service);
        assert.equal(d.decision, 'queued');
        assert.ok((await finished(s, d.jobId!)).actedAt);
      }
      const fourth = await s.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'svc-4', { fingerprint: 'fp-acted-4' })]),
      );
      assert.equal(fourth.body.decisions[0].decision, 'circuit_open');
      assert.match(
        fourth.body.decisions[0].reason,
        /^circuit breaker opened: 3 rollbacks in the last 600s/,
      );
      assert.equal((await s.request('GET', 'status')).body.circuit.open, true);
      assert.match(await (await fetch(`${s.url}/metrics`)).text(), /^rollback_circuit_open 1$/m);
      // circuit_open is not final: the same instance is decided again after resume.
      assert.equal((await s.request('POST', 'resume')).status, 200);
      const again = await s.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'svc-4', { fingerprint: 'fp-acted-4' })]),
      );
      assert.equal(again.body.decisions[0].decision, 'queued');
    } finally {
      await s.close();
    }
  });
});
