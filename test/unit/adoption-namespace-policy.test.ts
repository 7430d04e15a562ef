// A pending-rollback mark is only a label and an annotation on a workload: anyone who may patch
// that workload (or a leader with an older config) can write one. A new leader re-checks the
// namespace policy before it adopts the job.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { policySchema } from '../../src/config/schema.js';
import { namespaceAllowed } from '../../src/decide/resolve-target.js';
import { adoptionPlan } from '../../src/ha/adoption-plan.js';
import type { PendingRollback } from '../../src/ha/pending-rollback.js';
import type { MarkedWorkload } from '../../src/ha/workload-marks.js';
import type { Job } from '../../src/model/job.js';

const NOW = Date.parse('2026-11-22T10:30:00.000Z');
const policy = policySchema.parse({ allowedNamespaces: ['shop', 'team-*'] });
const pending = (jobId: string): PendingRollback => ({
  jobId,
  alertname: 'CriticalErrorRate',
  fingerprint: `fp-${jobId}`,
  startsAt: '2026-11-22T10:20:00.000Z',
  labels: {},
  rule: 'CriticalErrorRate',
  trigger: 'error_rate_threshold',
  confidence: 'high',
  fromRevision: 2,
  createdAt: '2026-11-22T10:29:00.000Z',
  acceptedBy: 'replica-a',
});
const mark = (namespace: string, jobId: string): MarkedWorkload => ({
  ref: { kind: 'Deployment', namespace, name: 'api' },
  pending: pending(jobId),
});
const none = { jobs: new Map<string, Job>(), activeJob: () => undefined };

describe('adoption re-checks the namespace policy', () => {
  test('marks in denied or not-allowed namespaces are left alone, with why; allowed ones adopted', () => {
    const plan = adoptionPlan(
      [mark('kube-system', 'j1'), mark('payments', 'j2'), mark('team-a', 'j3'), mark('shop', 'j4')],
      none,
      { now: NOW, identity: 'b', namespaceDenied: (ns) => namespaceAllowed(ns, policy) },
    );
    assert.deepEqual(
      plan.adopt.map((j) => j.id),
      ['j3', 'j4'],
    );
    assert.deepEqual(
      plan.ignored.map((i) => [i.jobId, i.why]),
      [
        ['j1', 'namespace "kube-system" is denied by policy.deniedNamespaces: not adopted'],
        ['j2', 'namespace "payments" is not in policy.allowedNamespaces: not adopted'],
      ],
    );
    assert.ok(
      plan.records.every((r) => r.t !== 'job' || ['j3', 'j4'].includes(r.job.id)),
      'nothing journaled for the refused marks',
    );
  });
});
