// Every alert decision is logged once, with what an operator needs to know why a rollback did or
// did not happen (alert name, fingerprint, target, rule, decision, reason), at info when the
// controller acts and at warn for refusals; job lines name the target and the alert; and the
// recent decisions can be read back from GET /decisions.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alert, firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const CONFIG = `
rules:
  - { alert: CriticalErrorRate, trigger: error_rate_threshold, confidence: high }
  - { alert: RedisConnectionFailure, trigger: database_error, confidence: medium }
  - { alert: SlowButFine, trigger: latency_degradation, confidence: low }
policy:
  allowedNamespaces: ["shop"]
  circuitBreaker: { maxRollbacks: 1, windowSeconds: 600 }
`;
const INFO = 30;
const WARN = 40;

describe('decision logs', () => {
  let s: TestServer;
  let dataDir: string;
  const exec = new RecordingExecutor();
  let requests = 0;
  before(async () => {
    s = await startTestServer({
      configText: CONFIG,
      keepDataDir: true,
      executors: { kubernetes: exec },
    });
    dataDir = s.dataDir;
  });
  after(async () => {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const lines = () => s.logs.map((l) => JSON.parse(l) as Record<string, any>);

  /** Sends one alert; returns the answer's decision and the one decision line the request logged. */
  const decide = async (a: Record<string, unknown>) => {
    const requestId = `decision-${++requests}`;
    const res = await s.request('POST', 'trigger', payload([a]), { 'x-request-id': requestId });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const decision = res.body.decisions[0];
    const logged = lines().filter((l) => l['requestId'] === requestId && 'decision' in l);
    assert.equal(logged.length, 1, `one decision line per alert: ${JSON.stringify(logged)}`);
    const line = logged[0];
    assert.equal(line['decision'], decision.decision);
    assert.equal(line['reason'], decision.reason);
    assert.equal(line['alertname'], decision.alertname);
    assert.equal(line['fingerprint'], decision.fingerprint);
    assert.match(String(line['msg']), new RegExp(`^alert ${decision.decision}: `));
    return { decision, line };
  };

  const expectLine = (
    line: Record<string, any>,
    want: { level: number; target: string | null; rule: string | null },
  ) => {
    assert.equal(line['level'], want.level, JSON.stringify(line));
    assert.equal(line['target'], want.target);
    assert.equal(line['rule'], want.rule);
  };

  test('queued: info, with target and rule; the job lines carry the target and the alert', async () => {
    const { decision, line } = await decide(
      firing('CriticalErrorRate', 'api', { fingerprint: 'q1' }),
    );
    assert.equal(decision.decision, 'queued');
    expectLine(line, { level: INFO, target: 'Deployment shop/api', rule: 'CriticalErrorRate' });
    assert.equal(line['jobId'], decision.jobId);
    await until(() =>
      lines().some((l) => l['msg'] === 'job finished' && l['jobId'] === decision.jobId),
    );
    for (const msg of ['job started', 'job finished']) {
      const jobLine = lines().find((l) => l['msg'] === msg && l['jobId'] === decision.jobId);
      assert.equal(jobLine?.['target'], 'Deployment shop/api', msg);
      assert.equal(jobLine?.['alertname'], 'CriticalErrorRate', msg);
      assert.equal(jobLine?.['fingerprint'], 'q1', msg);
    }
  });

  test('duplicate: info (Alertmanager re-sends are normal)', async () => {
    const { decision, line } = await decide(
      firing('CriticalErrorRate', 'api', { fingerprint: 'q1' }),
    );
    assert.equal(decision.decision, 'duplicate');
    expectLine(line, { level: INFO, target: 'Deployment shop/api', rule: 'CriticalErrorRate' });
  });

  test('cooldown: warn, saying when the cooldown ends', async () => {
    const { decision, line } = await decide(
      firing('CriticalErrorRate', 'api', { fingerprint: 'c1' }),
    );
    assert.equal(decision.decision, 'cooldown');
    expectLine(line, { level: WARN, target: 'Deployment shop/api', rule: 'CriticalErrorRate' });
    assert.match(line['reason'], /cooldown ends in/);
  });

  test('circuit_open: warn', async () => {
    const { decision, line } = await decide(
      firing('CriticalErrorRate', 'web', { fingerprint: 'o1' }),
    );
    assert.equal(decision.decision, 'circuit_open');
    expectLine(line, { level: WARN, target: 'Deployment shop/web', rule: 'CriticalErrorRate' });
  });

  test('paused: warn, naming how to resume', async () => {
    assert.equal((await s.request('POST', 'pause', { reason: 'incident' })).status, 200);
    const { decision, line } = await decide(
      firing('CriticalErrorRate', 'cart', { fingerprint: 'p1' }),
    );
    assert.equal(decision.decision, 'paused');
    expectLine(line, { level: WARN, target: 'Deployment shop/cart', rule: 'CriticalErrorRate' });
    assert.match(line['reason'], /resume/);
    assert.equal((await s.request('POST', 'resume', {})).status, 200);
  });

  test('awaiting_approval: info', async () => {
    const { decision, line } = await decide(
      firing('RedisConnectionFailure', 'cache', { fingerprint: 'w1' }),
    );
    assert.equal(decision.decision, 'awaiting_approval');
    expectLine(line, {
      level: INFO,
      target: 'Deployment shop/cache',
      rule: 'RedisConnectionFailure',
    });
    assert.equal(line['jobId'], decision.jobId);
  });

  test('coalesced: info, naming the job it joined', async () => {
    const { decision, line } = await decide(
      firing('RedisConnectionFailure', 'cache', { fingerprint: 'w2' }),
    );
    assert.equal(decision.decision, 'coalesced');
    expectLine(line, {
      level: INFO,
      target: 'Deployment shop/cache',
      rule: 'RedisConnectionFailure',
    });
    assert.ok(line['jobId']);
  });

  test('notify_only: info', async () => {
    const { decision, line } = await decide(firing('SlowButFine', 'web', { fingerprint: 'n1' }));
    assert.equal(decision.decision, 'notify_only');
    expectLine(line, { level: INFO, target: 'Deployment shop/web', rule: 'SlowButFine' });
  });

  test('unmapped: warn, with no rule and no target', async () => {
    const { decision, line } = await decide(firing('NoSuchAlert', 'web', { fingerprint: 'u1' }));
    assert.equal(decision.decision, 'unmapped');
    expectLine(line, { level: WARN, target: null, rule: null });
  });

  test('invalid_target: warn, saying why the target is refused', async () => {
    const { decision, line } = await decide(
      alert({
        alertname: 'CriticalErrorRate',
        fingerprint: 'i1',
        labels: { namespace: 'billing', deployment: 'api' },
      }),
    );
    assert.equal(decision.decision, 'invalid_target');
    assert.equal(line['level'], WARN);
    assert.equal(line['rule'], 'CriticalErrorRate');
    assert.match(line['reason'], /billing/);
  });

  test('resolved: info', async () => {
    const { decision, line } = await decide(
      alert({
        alertname: 'CriticalErrorRate',
        status: 'resolved',
        fingerprint: 'q1',
        labels: { namespace: 'shop', deployment: 'api' },
      }),
    );
    assert.equal(decision.decision, 'resolved');
    expectLine(line, { level: INFO, target: 'Deployment shop/api', rule: 'CriticalErrorRate' });
  });

  test('GET /decisions: newest first with reasons, filtered, under both prefixes, authenticated', async () => {
    const all = await s.request('GET', 'decisions?limit=1000');
    assert.equal(all.status, 200);
    const kinds = all.body.decisions.map((d: { decision: string }) => d.decision);
    assert.deepEqual(kinds, [
      'resolved',
      'invalid_target',
      'unmapped',
      'notify_only',
      'coalesced',
      'awaiting_approval',
      'paused',
      'circuit_open',
      'cooldown',
      'duplicate',
      'queued',
    ]);
    const cooldown = all.body.decisions[8];
    assert.equal(cooldown.target, 'Deployment shop/api');
    assert.equal(cooldown.rule, 'CriticalErrorRate');
    assert.match(cooldown.reason, /cooldown ends in/);
    assert.ok(Date.parse(cooldown.at));

    const warned = await s.request('GET', '/rollback/decisions?decision=cooldown');
    assert.equal(warned.status, 200);
    assert.deepEqual(
      warned.body.decisions.map((d: { fingerprint: string }) => d.fingerprint),
      ['c1'],
    );
    const byTarget = await s.request('GET', 'decisions?target=shop/cache&limit=1');
    assert.deepEqual(
      byTarget.body.decisions.map((d: { decision: string }) => d.decision),
      ['coalesced'],
    );
    const bad = await s.request('GET', 'decisions?decision=maybe');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /decision one of queued/);
    const anonymous = await fetch(`${s.url}/api/admin/rollback/decisions`);
    assert.equal(anonymous.status, 401);
  });
  test('GET /decisions survives a restart, and the compacted journal keeps the history', async () => {
    const before = (await s.request('GET', 'decisions?limit=1000')).body.decisions;
    assert.equal(before.length, 11);
    // The first restart replays the journal as written and compacts it; the second replays the
    // compacted journal, where only the history's own records carry the decisions.
    for (const round of ['after replaying the journal', 'after replaying the compacted journal']) {
      await s.close();
      s = await startTestServer({ configText: CONFIG, dataDir, executors: { kubernetes: exec } });
      const again = await s.request('GET', 'decisions?limit=1000');
      assert.deepEqual(again.body.decisions, before, round);
      const records = readFileSync(join(dataDir, 'journal.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { t: string; key?: string })
        .filter((r) => r.t === 'decision');
      assert.equal(records.length, 11, `${round}: the compacted journal keeps the history`);
      assert.ok(
        records.every((r) => r.key === undefined),
        'history records restore no dedup key (the snapshot keeps those as instances)',
      );
    }
    const filtered = await s.request('GET', 'decisions?decision=cooldown');
    assert.deepEqual(
      filtered.body.decisions.map((d: { fingerprint: string }) => d.fingerprint),
      ['c1'],
    );
  });
});
