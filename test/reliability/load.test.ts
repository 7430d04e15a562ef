// Load: 10,000 alerts over 100 workloads, 5 per notification, 50 notifications in flight at a
// time, against a controller whose circuit breaker allows more than 100 rollbacks. Every
// notification is answered 202; exactly one rollback per workload; every other alert is
// coalesced, a duplicate or in cooldown; every decision is durable (a restarted controller on the
// same journal knows all of it); memory stays bounded. Latencies are printed as figures, never
// asserted: how fast a loaded machine answers is the benchmarks' business (npm run bench).
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alert, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { SECRET, basic, startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';
import { Figures, MB, quantile } from './support/figures.js';

const figures = new Figures('load');
const WORKLOADS = 100;
const PER_WORKLOAD = 100; // 90 distinct alert instances + 10 re-sends of earlier ones
const PER_PAYLOAD = 5;
const IN_FLIGHT = 50;
// The controller runs in this process, so RSS includes the test's own ~200 MB (tsx, the load
// generator): the bound is on what the run adds.
const RSS_GROWTH_BOUND = 400 * MB;
const HIGH = ['CriticalErrorRate', 'CriticalP95Latency', 'MitaSystemUnhealthy'];

describe('10,000 alerts over 100 workloads', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();

  before(async () => {
    s = await startTestServer({
      executors: { kubernetes: exec },
      configText: 'policy: { circuitBreaker: { maxRollbacks: 1000 } }',
      env: { LOG_LEVEL: 'warn' }, // a request log line per notification would measure the logger
      keepDataDir: true, // the durability check restarts on it
    });
  });
  after(async () => {
    await s.close();
    rmSync(s.dataDir, { recursive: true, force: true });
  });

  test('exactly 100 rollbacks; the rest coalesced, duplicate or cooldown; bounded memory', async () => {
    // A fixed shuffle (LCG) so every run sends the same interleaving.
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const startsAt = new Date().toISOString();
    const alerts: Array<Record<string, unknown>> = [];
    for (let w = 0; w < WORKLOADS; w++) {
      const own: Array<Record<string, unknown>> = [];
      for (let i = 0; i < PER_WORKLOAD - 10; i++) {
        own.push(
          alert({
            alertname: HIGH[i % HIGH.length],
            labels: { namespace: 'load', deployment: `w${w}`, pod: `p${i}` },
            fingerprint: `load-${w}-${i}`,
            startsAt,
          }),
        );
      }
      for (let i = 0; i < 10; i++) own.push(own[Math.floor(rand() * own.length)]);
      alerts.push(...own);
    }
    for (let i = alerts.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [alerts[i], alerts[j]] = [alerts[j], alerts[i]];
    }
    const bodies: string[] = [];
    for (let i = 0; i < alerts.length; i += PER_PAYLOAD)
      bodies.push(JSON.stringify(payload(alerts.slice(i, i + PER_PAYLOAD))));

    let peak = process.memoryUsage().rss;
    const baseRss = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const latencies: number[] = [];
    const counts: Record<string, number> = {};
    const jobIds = new Set<string>();
    const headers = {
      authorization: basic('alertmanager', SECRET),
      'content-type': 'application/json',
    };
    let next = 0;
    const t0 = performance.now();
    try {
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++];
            const t = performance.now();
            const res = await fetch(`${s.url}/api/admin/rollback/trigger`, {
              method: 'POST',
              headers,
              body,
            });
            const json = (await res.json()) as {
              decisions: Array<{ decision: string; jobId?: string }>;
            };
            latencies.push(performance.now() - t);
            assert.equal(res.status, 202, JSON.stringify(json));
            for (const d of json.decisions) {
              counts[d.decision] = (counts[d.decision] ?? 0) + 1;
              if (d.decision === 'queued') jobIds.add(d.jobId!);
            }
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - t0) / 1000;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    figures.add('load', 'alerts / notifications', `${total} / ${bodies.length}`);
    figures.add('load', 'wall time', seconds, 's');
    figures.add('load', 'throughput', total / seconds, 'alerts/s');
    figures.add(
      'load',
      '202 latency p50 / p99 / max',
      `${quantile(latencies, 0.5).toFixed(1)} / ${quantile(latencies, 0.99).toFixed(1)} / ${Math.max(...latencies).toFixed(1)} ms`,
    );
    figures.add(
      'load',
      'decisions',
      Object.entries(counts)
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
    figures.add(
      'load',
      'RSS before / peak',
      `${(baseRss / MB).toFixed(0)} / ${(peak / MB).toFixed(0)} MB`,
    );

    figures.add(
      'load',
      'journal size after the burst',
      statSync(join(s.dataDir, 'journal.jsonl')).size / MB,
      'MB',
    );
    assert.equal(total, WORKLOADS * PER_WORKLOAD, 'every alert was decided');
    assert.equal(counts['queued'], WORKLOADS, 'exactly one rollback per workload');
    assert.equal(jobIds.size, WORKLOADS);
    const others = Object.keys(counts).filter((k) => k !== 'queued');
    assert.deepEqual(
      others.filter((k) => !['coalesced', 'duplicate', 'cooldown'].includes(k)),
      [],
    );
    assert.ok((counts['duplicate'] ?? 0) >= WORKLOADS * 10, 'every re-send was a duplicate');
    assert.ok(
      peak - baseRss < RSS_GROWTH_BOUND,
      `RSS grew by ${((peak - baseRss) / MB).toFixed(0)} MB, bound ${RSS_GROWTH_BOUND / MB} MB`,
    );

    await until(
      async () =>
        ((await s.request('GET', 'jobs?state=succeeded&limit=1000')).body.jobs as unknown[])
          .length === WORKLOADS,
      120_000, // a hang guard, not a speed limit
      'all 100 jobs succeeded',
    );
    const executed = exec.executed();
    assert.equal(executed.length, WORKLOADS, 'the executor ran 100 jobs');
    assert.equal(
      new Set(exec.calls.filter((c) => c.method === 'execute').map((c) => c.targetKey)).size,
      WORKLOADS,
      'one per workload',
    );
    figures.add(
      'load',
      'journal size after the jobs',
      statSync(join(s.dataDir, 'journal.jsonl')).size / MB,
      'MB',
    );

    // Nothing lost: a controller restarted on the same journal (the first one dies without a
    // graceful close) knows every job, and every alert it already decided is a duplicate again.
    await s.abandon();
    s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      configText: 'policy: { circuitBreaker: { maxRollbacks: 1000 } }',
      env: { LOG_LEVEL: 'warn' },
      dataDir: s.dataDir,
    });
    const replayed = (await s.request('GET', 'jobs?state=succeeded&limit=1000')).body
      .jobs as Array<{ id: string }>;
    assert.deepEqual(new Set(replayed.map((j) => j.id)), jobIds, 'every job survived the restart');
    for (const body of bodies.slice(0, 20)) {
      const again = await s.request('POST', 'trigger', body);
      assert.equal(again.status, 202);
      for (const d of again.body.decisions as Array<{ decision: string }>)
        assert.ok(['duplicate', 'cooldown'].includes(d.decision), d.decision);
    }
  });
});
