// Walks every state × step: a step is legal exactly when the table lists it, an illegal one
// throws and leaves the job as it was, and each legal one writes its timeline entry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACTIVE_STATES,
  adopt,
  alertResolved,
  approve,
  expire,
  finish,
  handBack,
  IllegalTransitionError,
  isLegal,
  notRecovered,
  open,
  recovered,
  recover,
  start,
  TERMINAL_STATES,
  TRANSITIONS,
  type JobFields,
  type Step,
} from '../../src/jobs/job-transitions.js';
import { JobStates, type Job, type JobState } from '../../src/model/job.js';

const AT = Date.parse('2026-11-22T10:30:00.000Z');
const ISO = new Date(AT).toISOString();

const FIELDS: JobFields = {
  id: 'job-1',
  targetKey: 'Deployment/shop/api',
  executor: 'kubernetes',
  target: { kind: 'Deployment', namespace: 'shop', name: 'api' },
  rule: 'CriticalErrorRate',
  trigger: 'error_rate_threshold',
  confidence: 'high',
  alert: {
    alertname: 'CriticalErrorRate',
    fingerprint: 'fp-1',
    startsAt: '2026-11-22T10:20:00.000Z',
    labels: {},
    annotations: {},
    generatorURL: '',
    externalURL: '',
    receivedAt: AT - 60_000,
  },
};

function jobIn(state: JobState): Job {
  return {
    ...open(FIELDS, { at: AT - 1000, reason: 'test', approvalExpiresAt: AT + 60_000 }),
    state,
  };
}

/** Each step, applied so that it targets `to` (only `finish` can reach more than one state). */
const STEPS: Record<Step, (job: Job, to: JobState) => Job> = {
  approve: (job) => approve(job, 'alice', AT),
  expire: (job) => expire(job, AT),
  start: (job) => start(job, AT),
  recover: (job) => recover(job, AT),
  handBack: (job) => handBack(job, 'shutdown', AT),
  finish: (job, to) =>
    finish(job, { outcome: to as 'succeeded' | 'failed' | 'skipped', reason: 'done' }, AT),
};
const TARGETS: Record<Step, JobState[]> = {
  approve: ['queued'],
  expire: ['expired'],
  start: ['running'],
  recover: ['running'],
  handBack: ['running'],
  finish: ['succeeded', 'failed', 'skipped'],
};
const EVENT: Record<Step, string> = {
  approve: 'approved',
  expire: 'expired',
  start: 'started',
  recover: 'recovering',
  handBack: 'handed_back',
  finish: '(outcome)',
};

describe('job transitions', () => {
  const states = Object.values(JobStates);
  for (const from of states) {
    for (const s of Object.keys(STEPS) as Step[]) {
      for (const to of TARGETS[s]) {
        const legal = TRANSITIONS.some((t) => t.from === from && t.step === s && t.to === to);
        test(`${from} --${s}--> ${to}: ${legal ? 'legal' : 'illegal'}`, () => {
          assert.equal(isLegal(from, s, to), legal);
          const job = jobIn(from);
          const copy = structuredClone(job);
          if (!legal) {
            assert.throws(() => STEPS[s](job, to), IllegalTransitionError);
            assert.deepEqual(job, copy, 'an illegal step changes nothing');
            return;
          }
          const next = STEPS[s](job, to);
          assert.equal(next.state, to);
          assert.equal(next.timeline.length, job.timeline.length + 1);
          const entry = next.timeline.at(-1);
          assert.equal(entry?.event, s === 'finish' ? to : EVENT[s]);
          assert.equal(entry?.at, ISO);
          assert.deepEqual(job, copy, 'the step returns a new job and leaves its input alone');
        });
      }
    }
  }

  test('the table is exactly the documented life of a job', () => {
    const keys = TRANSITIONS.map((t) => `${t.from} --${t.step}--> ${t.to}`);
    assert.deepEqual(keys.sort(), [
      'awaiting_approval --approve--> queued',
      'awaiting_approval --expire--> expired',
      'queued --start--> running',
      'running --finish--> failed',
      'running --finish--> skipped',
      'running --finish--> succeeded',
      'running --handBack--> running',
      'running --recover--> running',
    ]);
  });

  test('terminal states are the ones no step leaves; the rest are active', () => {
    assert.deepEqual([...TERMINAL_STATES].sort(), ['expired', 'failed', 'skipped', 'succeeded']);
    assert.deepEqual([...ACTIVE_STATES].sort(), ['awaiting_approval', 'queued', 'running']);
  });
});

describe('job beginnings', () => {
  test('an alert opens a queued job, or one held until its approval deadline', () => {
    const queued = open(FIELDS, { at: AT, reason: 'high confidence' });
    assert.equal(queued.state, 'queued');
    assert.equal(queued.origin, 'alert');
    assert.equal(queued.approval, undefined);
    assert.deepEqual(queued.timeline, [{ at: ISO, event: 'queued', message: 'high confidence' }]);
    const held = open(FIELDS, { at: AT, reason: 'medium', approvalExpiresAt: AT + 3600_000 });
    assert.equal(held.state, 'awaiting_approval');
    assert.deepEqual(held.approval, { expiresAt: new Date(AT + 3600_000).toISOString() });
    assert.equal(held.timeline[0]?.event, 'awaiting_approval');
  });

  test('an adopted job is queued, says so in a field, and keeps its original creation time', () => {
    const job = adopt(FIELDS, {
      createdAt: '2026-11-22T10:21:00.000Z',
      acceptedBy: 'replica-a',
      by: 'replica-b',
      at: AT,
    });
    assert.equal(job.state, 'queued');
    assert.equal(job.origin, 'adopted');
    assert.equal(job.createdAt, '2026-11-22T10:21:00.000Z');
    assert.deepEqual(
      job.timeline.map((e) => e.event),
      ['queued', 'adopted'],
    );
  });
});

describe('the verdict', () => {
  const running = start(jobIn('queued'), AT);

  test('a success waits for the alert; an alert already resolved makes it recovered at once', () => {
    const pending = finish(running, { outcome: 'succeeded', reason: 'ok' }, AT);
    assert.equal(pending.verdict, 'pending');
    const early = finish(alertResolved(running, AT), { outcome: 'succeeded', reason: 'ok' }, AT);
    assert.equal(early.verdict, 'recovered');
    assert.equal(early.recoverySeconds, 0);
    const failed = finish(running, { outcome: 'failed', reason: 'no' }, AT);
    assert.equal(failed.verdict, undefined);
  });

  test('pending settles once: recovered or not_recovered, never both', () => {
    const pending = finish(running, { outcome: 'succeeded', reason: 'ok' }, AT);
    const yes = recovered(pending, 42.4, AT + 42_400);
    assert.equal(yes.verdict, 'recovered');
    assert.equal(yes.timeline.at(-1)?.message, 'alert resolved 42s after the rollback finished');
    const no = notRecovered(pending, 900, AT);
    assert.equal(no.verdict, 'not_recovered');
    assert.throws(() => notRecovered(yes, 900, AT), IllegalTransitionError);
    assert.throws(() => recovered(no, 1, AT), IllegalTransitionError);
    assert.throws(() => recovered(running, 1, AT), IllegalTransitionError);
  });

  test('only an active job records that its alert resolved', () => {
    assert.ok(alertResolved(running, AT).alertResolvedAt);
    const done = finish(running, { outcome: 'failed', reason: 'no' }, AT);
    assert.throws(() => alertResolved(done, AT), IllegalTransitionError);
  });

  test('finishing takes the fields the executor reported', () => {
    const done = finish(
      running,
      { outcome: 'succeeded', reason: 'ok', fields: { fromRevision: 7, toRevision: 6 } },
      AT,
    );
    assert.equal(done.fromRevision, 7);
    assert.equal(done.toRevision, 6);
    assert.equal(done.finishedAt, ISO);
    assert.equal(done.reason, 'ok');
  });
});
