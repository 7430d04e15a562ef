// GET /decisions reads a bounded ring: it never grows past its capacity and lists newest first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecisionHistory } from '../../src/jobs/decision-history.js';
import type { Decision } from '../../src/model/decision.js';

const decision = (i: number): Decision => ({
  alertname: 'CriticalErrorRate',
  fingerprint: `fp${i}`,
  status: 'firing',
  decision: i % 2 ? 'cooldown' : 'queued',
  reason: `reason ${i}`,
  targetKey: `Deployment/shop/api${i % 3}`,
  target: { kind: 'Deployment', namespace: 'shop', name: `api${i % 3}` },
});

test('the ring keeps the newest `capacity` decisions, newest first, and filters', () => {
  const h = new DecisionHistory(5);
  for (let i = 1; i <= 12; i++) h.add(decision(i), Date.UTC(2026, 0, 1, 0, 0, i));
  assert.equal(h.size, 5);
  const all = h.list({ limit: 100 });
  assert.deepEqual(
    all.map((e) => e.fingerprint),
    ['fp12', 'fp11', 'fp10', 'fp9', 'fp8'],
  );
  assert.equal(all[0]?.at, '2026-01-01T00:00:12.000Z');
  assert.equal(all[0]?.target, 'Deployment shop/api0');
  assert.deepEqual(
    h.list({ limit: 100, decision: 'cooldown' }).map((e) => e.fingerprint),
    ['fp11', 'fp9'],
  );
  assert.deepEqual(
    h.list({ limit: 1, target: 'shop/api1' }).map((e) => e.fingerprint),
    ['fp10'],
  );
});

test('before it fills, it lists what it has', () => {
  const h = new DecisionHistory(5);
  h.add(decision(1), 0);
  h.add(decision(2), 1);
  assert.deepEqual(
    h.list({ limit: 10 }).map((e) => e.fingerprint),
    ['fp2', 'fp1'],
  );
});

test('what compaction keeps is the ring, oldest first, and rebuilds the same history', () => {
  const h = new DecisionHistory(5);
  for (let i = 1; i <= 12; i++) h.add(decision(i), Date.UTC(2026, 0, 1, 0, 0, i));
  const records = h.records();
  assert.deepEqual(
    records.map((r) => (r.t === 'decision' ? r.d.fingerprint : r.t)),
    ['fp8', 'fp9', 'fp10', 'fp11', 'fp12'],
  );
  assert.ok(records.every((r) => r.t === 'decision' && r.key === undefined));
  const rebuilt = new DecisionHistory(5);
  for (const r of records) if (r.t === 'decision') rebuilt.add(r.d, r.at);
  assert.deepEqual(rebuilt.list({ limit: 100 }), h.list({ limit: 100 }));
});
