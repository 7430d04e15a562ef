// A pending-rollback mark names a previous leader's decision. Before a new leader adopts the job
// it decides the alert again under the rules and policy it runs with now, approval threshold
// included, and never adopts a mark no replica signed for that workload.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigFromEnv } from '../../src/app.js';
import { adoptionPlan } from '../../src/ha/adoption-plan.js';
import type { PendingRollback } from '../../src/ha/pending-rollback.js';
import { redecideMark } from '../../src/ha/redecide-mark.js';
import type { MarkedWorkload } from '../../src/ha/workload-marks.js';
import type { Job } from '../../src/model/job.js';

const NOW = Date.parse('2026-11-22T10:30:00.000Z');
const pending = (jobId: string, alertname: string, deployment: string): PendingRollback => ({
  jobId,
  alertname,
  fingerprint: `fp-${jobId}`,
  startsAt: '2026-11-22T10:20:00.000Z',
  labels: { alertname, severity: 'critical', namespace: 'shop', deployment },
  rule: alertname,
  trigger: 'error_rate_threshold',
  // What the old leader wrote; the current rules say otherwise for some.
  confidence: 'high',
  fromRevision: 2,
  createdAt: '2026-11-22T10:29:00.000Z',
  acceptedBy: 'replica-a',
});
const on = (name: string, p: PendingRollback, forged?: string): MarkedWorkload => ({
  ref: { kind: 'Deployment', namespace: 'shop', name },
  pending: p,
  ...(forged ? { forged } : {}),
});
const none = { jobs: new Map<string, Job>(), activeJob: () => undefined };

function plan(configText: string, marks: MarkedWorkload[]) {
  const { config, rules } = loadConfigFromEnv({}, configText);
  return adoptionPlan(marks, none, {
    now: NOW,
    identity: 'b',
    redecide: (p, ref) => redecideMark(p, ref, rules, config.policy, NOW),
  });
}

describe('adoption decides the alert again', () => {
  test('a job the approval threshold now holds is not adopted (and its mark cleared)', () => {
    const marks = [
      on('cache', pending('j1', 'RedisConnectionFailure', 'cache')),
      on('api', pending('j2', 'CriticalErrorRate', 'api')),
    ];
    const lenient = plan('policy: { autoRollbackConfidence: medium }', marks);
    assert.deepEqual(
      lenient.adopt.map((j) => j.id),
      ['j1', 'j2'],
    );
    const strict = plan('policy: { autoRollbackConfidence: high }', marks);
    assert.deepEqual(
      strict.adopt.map((j) => j.id),
      ['j2'],
    );
    assert.deepEqual(
      strict.clear.map((c) => c.jobId),
      ['j1'],
    );
    assert.match(String(strict.clear[0]?.why), /awaiting_approval.*not adopted/);
    assert.equal(strict.adopt[0]?.confidence, 'high');
  });

  test('the current rule decides: notify-only now, or the labels name another workload', () => {
    const notify = plan(
      'rules: [{ alert: CriticalErrorRate, trigger: error_rate_threshold, confidence: high, autoRollback: false }]',
      [on('api', pending('j3', 'CriticalErrorRate', 'api'))],
    );
    assert.deepEqual(notify.adopt, []);
    assert.match(String(notify.clear[0]?.why), /notify_only/);
    const elsewhere = plan('', [on('web', pending('j4', 'CriticalErrorRate', 'api'))]);
    assert.deepEqual(elsewhere.adopt, []);
    assert.match(String(elsewhere.clear[0]?.why), /name Deployment\/shop\/api|shop\/api/);
  });

  test('a forged mark is left alone, logged, never adopted', () => {
    const forged = plan('', [
      on('api', pending('j5', 'CriticalErrorRate', 'api'), 'the mark is not signed'),
    ]);
    assert.deepEqual(forged.adopt, []);
    assert.deepEqual(forged.records, []);
    assert.deepEqual(
      forged.ignored.map((i) => i.why),
      ['the mark is not signed: not adopted'],
    );
  });
});
