// /metrics exports every metric contract.md "Metrics" names, with its type and label names, plus process metrics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { until } from '../support/until.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SPEC: Array<[string, string, string[]]> = [
  ['rollback_webhook_requests_total', 'counter', ['route', 'code']],
  ['rollback_alerts_received_total', 'counter', ['status']],
  ['rollback_decisions_total', 'counter', ['trigger', 'confidence', 'decision']],
  ['rollback_jobs_total', 'counter', ['trigger', 'executor', 'outcome']],
  ['rollback_job_duration_seconds', 'histogram', ['trigger', 'executor', 'outcome']],
  ['rollback_alert_to_action_seconds', 'histogram', ['executor']],
  ['rollback_queue_depth', 'gauge', []],
  ['rollback_jobs_in_progress', 'gauge', []],
  ['rollback_paused', 'gauge', []],
  ['rollback_circuit_open', 'gauge', []],
  ['rollback_last_rollback_timestamp_seconds', 'gauge', ['namespace', 'workload', 'outcome']],
  ['rollback_notifications_total', 'counter', ['channel', 'outcome']],
  ['rollback_verdicts_total', 'counter', ['trigger', 'verdict']],
  ['rollback_recovery_seconds', 'histogram', ['trigger']],
];

describe('/metrics', () => {
  let s: TestServer;
  let text = '';
  before(async () => {
    // The rollbacks wait for the test: api's alert resolves while they run, so it is recovered
    // the moment it succeeds (no race against the 1 s window); web's never resolves.
    let release = () => {};
    const exec = new RecordingExecutor();
    exec.gate = new Promise<void>((ok) => (release = ok));
    s = await startTestServer({
      executors: { kubernetes: exec },
      configText: 'verification: { windowSeconds: 1 }',
    });
    const api = firing('CriticalErrorRate', 'api');
    await s.request(
      'POST',
      'trigger',
      payload([api, firing('CriticalErrorRate', 'web'), firing('Unknown', 'x')]),
    );
    await s.request(
      'POST',
      'trigger',
      payload([{ ...api, status: 'resolved', endsAt: new Date().toISOString() }]),
    );
    release();
    await until(
      async () => (await s.request('GET', 'jobs?state=succeeded')).body.jobs.length === 2,
      60_000,
      'both rollbacks succeeded',
    );
    // Wait for the window to close on web's job (an observable condition, not a fixed time).
    await until(
      async () => {
        text = await (await fetch(`${s.url}/metrics`)).text();
        return /verdict="not_recovered"/.test(text);
      },
      60_000,
      'the not_recovered verdict',
    );
  });
  after(() => s.close());

  for (const [name, type, labels] of SPEC) {
    test(`${name} is a ${type} with labels [${labels.join(', ')}]`, () => {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
      const sample = text
        .split('\n')
        .find(
          (l) => l.startsWith(type === 'histogram' ? `${name}_count` : name) && !l.startsWith('#'),
        );
      assert.ok(sample, `${name} has a sample`);
      const found = [...sample.matchAll(/(\w+)="/g)].map((m) => m[1]).sort();
      assert.deepEqual(found, [...labels].sort());
    });
  }

  test('the rollback is counted with bounded labels', () => {
    assert.match(
      text,
      /rollback_jobs_total\{trigger="error_rate_threshold",executor="kubernetes",outcome="succeeded"\} 2/,
    );
    assert.match(
      text,
      /rollback_decisions_total\{trigger="none",confidence="none",decision="unmapped"\} 1/,
    );
    assert.match(text, /rollback_alert_to_action_seconds_count\{executor="kubernetes"\} 2/);
    assert.match(
      text,
      /rollback_verdicts_total\{trigger="error_rate_threshold",verdict="recovered"\} 1/,
    );
    assert.match(text, /rollback_recovery_seconds_count\{trigger="error_rate_threshold"\} 1/);
    assert.match(
      text,
      /rollback_last_rollback_timestamp_seconds\{namespace="shop",workload="api",outcome="succeeded"\} \d/,
    );
    assert.match(
      text,
      /rollback_verdicts_total\{trigger="error_rate_threshold",verdict="not_recovered"\} 1/,
    );
    assert.doesNotMatch(text, /fingerprint|fp0000|jobId/);
  });

  test('process default metrics are exported too', () => {
    assert.match(text, /^process_resident_memory_bytes \d/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });
});
