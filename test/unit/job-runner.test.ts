// The job engine (runner, store, timers and their listeners, wired by createJobEngine as in the
// controller), with no HTTP, no disk and no real time: a recording executor, an in-memory
// journal, a hand-driven clock and timers. Each test waits on the store's
// own change events, never on a sleep.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { approveJob } from '../../src/jobs/approve-job.js';
import { createJobEngine } from '../../src/jobs/create-job-engine.js';
import type { SetTimer } from '../../src/jobs/job-timers.js';
import { open } from '../../src/jobs/job-transitions.js';
import type { JournalRecord } from '../../src/jobs/journal-record.js';
import { ConflictError, UnavailableError } from '../../src/model/errors.js';
import type { JobNotifier, JobStage } from '../../src/model/job-notifier.js';
import type { Job, JobState } from '../../src/model/job.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { RecordingExecutor } from '../support/recording-executor.js';

const T0 = Date.parse('2026-11-22T10:30:00.000Z');
const WINDOW_MS = 900_000;

/** Timers that fire only when the test moves the clock. */
class FakeTime {
  now = T0;
  private pending: Array<{ at: number; fn: () => void; live: boolean }> = [];

  readonly setTimer: SetTimer = (fn, ms) => {
    const t = { at: this.now + ms, fn, live: true };
    this.pending.push(t);
    return { cancel: () => void (t.live = false) };
  };

  get armed(): number {
    return this.pending.filter((t) => t.live).length;
  }

  advance(ms: number): void {
    this.now += ms;
    const due = this.pending.filter((t) => t.live && t.at <= this.now);
    this.pending = this.pending.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  }
}

/** An append-only journal in memory that can be told to fail. */
class MemoryJournal {
  readonly records: JournalRecord[] = [];
  failing = false;
  async append(records: JournalRecord[]): Promise<void> {
    if (this.failing) throw new Error('disk full');
    this.records.push(...structuredClone(records));
  }
  jobStates(id: string): JobState[] {
    return this.records.flatMap((r) => (r.t === 'job' && r.job.id === id ? [r.job.state] : []));
  }
}

function setUp(executor = new RecordingExecutor(), standby?: () => string | undefined) {
  const time = new FakeTime();
  const journal = new MemoryJournal();
  const logger = pino({ enabled: false });
  const metrics = createMetrics({ defaultMetrics: false });
  const stages: Array<{ id: string; stage: JobStage }> = [];
  const notifier: JobNotifier = {
    enabled: true,
    job: (job, stage) => void stages.push({ id: job.id, stage }),
    decision: () => undefined,
    flush: async () => undefined,
  };
  // The same wiring as the controller's.
  const { state, store, timers, runner } = createJobEngine({
    append: (r) => journal.append(r),
    executors: { kubernetes: executor },
    notifier,
    metrics,
    logger,
    now: () => time.now,
    setTimer: time.setTimer,
    concurrency: 1,
    rolloutTimeoutMs: 60_000,
    verificationWindowMs: WINDOW_MS,
    ownerCheckIntervalMs: 60_000,
    ...(standby ? { standby } : {}),
  });

  /** Resolves when the job reaches `state` (checked on every committed change). */
  const reaches = (id: string, s: JobState) =>
    new Promise<Job>((resolve) => {
      const now = store.get(id);
      if (now?.state === s) return resolve(now);
      store.onJobChange((_, after) => {
        if (after.id === id && after.state === s) resolve(after);
      });
    });

  /** Records a job the way the intake does, then hands it to the runner. */
  const accept = async (id: string, held = false) => {
    const job = open(
      {
        id,
        targetKey: `Deployment/shop/${id}`,
        executor: 'kubernetes',
        target: { kind: 'Deployment', namespace: 'shop', name: id },
        rule: 'CriticalErrorRate',
        trigger: 'error_rate_threshold',
        confidence: 'high',
        alert: {
          alertname: 'CriticalErrorRate',
          fingerprint: `fp-${id}`,
          startsAt: new Date(T0 - 60_000).toISOString(),
          labels: {},
          annotations: {},
          generatorURL: '',
          externalURL: '',
          receivedAt: T0,
        },
      },
      { at: time.now, reason: 'test', ...(held ? { approvalExpiresAt: time.now + 60_000 } : {}) },
    );
    await store.commit([{ t: 'job', job }]);
    runner.accepted(job);
    return job;
  };

  const approve = (id: string) =>
    approveJob(id, 'alice', { store, now: time.now, expire: (jobId) => timers.expire(jobId) });

  return {
    time,
    journal,
    state,
    store,
    timers,
    runner,
    executor,
    metrics,
    stages,
    reaches,
    accept,
    approve,
  };
}

describe('job runner', () => {
  test('a queued job is pinned, run and finished; Slack and the journal follow each step', async () => {
    const t = setUp();
    await t.accept('a');
    const done = await t.reaches('a', 'succeeded');
    assert.equal(done.outcome, 'succeeded');
    assert.equal(done.fromRevision, 7, 'pinned before it ran');
    assert.equal(done.verdict, 'pending');
    assert.deepEqual(
      t.executor.calls.map((c) => c.method),
      ['pin', 'execute'],
    );
    assert.deepEqual(
      done.timeline.map((e) => e.event),
      ['queued', 'pinned', 'started', 'progress', 'succeeded'],
    );
    assert.deepEqual(t.journal.jobStates('a'), [
      'queued',
      'queued',
      'running',
      'running',
      'running',
      'succeeded',
    ]);
    assert.deepEqual(
      t.stages.map((s) => s.stage),
      ['queued', 'started', 'progress', 'finished'],
    );
    const jobs = await t.metrics.jobs.get();
    assert.equal(jobs.values.find((v) => v.labels.outcome === 'succeeded')?.value, 1);
  });

  test('the verification window ends on the fake clock: not_recovered, counted and posted', async () => {
    const t = setUp();
    await t.accept('a');
    await t.reaches('a', 'succeeded');
    assert.equal(t.time.armed, 1, 'the verification timer is armed');
    t.time.advance(WINDOW_MS - 1);
    assert.equal(t.store.get('a')?.verdict, 'pending');
    const settled = new Promise<void>((resolve) =>
      t.store.onJobChange((_, after) => after.verdict === 'not_recovered' && resolve()),
    );
    t.time.advance(1);
    await settled;
    assert.equal(t.store.get('a')?.verdict, 'not_recovered');
    assert.equal(t.stages.at(-1)?.stage, 'not_recovered');
    const verdicts = await t.metrics.verdicts.get();
    assert.equal(verdicts.values.find((v) => v.labels.verdict === 'not_recovered')?.value, 1);
  });

  test('a held job expires when its approval deadline passes, and then cannot be approved', async () => {
    const t = setUp();
    await t.accept('h', true);
    assert.equal(t.time.armed, 1);
    assert.deepEqual(t.executor.executed(), []);
    const expired = t.reaches('h', 'expired');
    t.time.advance(60_000);
    assert.equal((await expired).reason, 'approval expired');
    assert.deepEqual(
      t.stages.map((s) => s.stage),
      ['awaiting_approval', 'expired'],
    );
    await assert.rejects(t.approve('h'), ConflictError);
  });

  test('a replica standing by (an HA follower, a leader that handed over) lets no deadline pass on its own; it acts once it leads again', async () => {
    let standby: string | undefined = 'following rc-1';
    const t = setUp(undefined, () => standby);
    await t.accept('h', true);
    t.time.advance(60_000);
    // The new leader holds the job now: this replica neither expires it nor tells Slack.
    assert.equal(t.store.get('h')?.state, 'awaiting_approval');
    assert.deepEqual(
      t.stages.map((s) => s.stage),
      ['awaiting_approval'],
    );
    standby = undefined;
    const expired = t.reaches('h', 'expired');
    t.runner.activate();
    assert.equal((await expired).reason, 'approval expired');
  });

  test('an approval past the deadline (its timer not yet fired) expires the job instead', async () => {
    const t = setUp();
    await t.accept('h', true);
    t.time.now += 60_000; // the clock moved; the timer has not run yet
    await assert.rejects(t.approve('h'), /expired at/);
    assert.equal(t.store.get('h')?.state, 'expired');
  });

  test('an approval that cannot be journaled is refused and leaves the job held', async () => {
    const t = setUp();
    await t.accept('h', true);
    t.journal.failing = true;
    await assert.rejects(t.approve('h'), UnavailableError);
    assert.equal(t.store.get('h')?.state, 'awaiting_approval');
    t.journal.failing = false;
    const approved = await t.approve('h');
    t.runner.enqueue(approved);
    assert.equal((await t.reaches('h', 'succeeded')).approval?.approvedBy, 'alice');
  });

  test('an executor that throws fails the job with the reason, and the queue goes on', async () => {
    const executor = new RecordingExecutor();
    executor.execute = async () => {
      throw new Error('boom');
    };
    const t = setUp(executor);
    await t.accept('x');
    assert.equal((await t.reaches('x', 'failed')).reason, 'executor error: boom');
    executor.execute = RecordingExecutor.prototype.execute.bind(executor);
    await t.accept('y');
    await t.reaches('y', 'succeeded');
  });

  test('stopping hands a running job back: it stays running, for the next start to re-check', async () => {
    const executor = new RecordingExecutor();
    executor.gate = new Promise(() => undefined);
    const t = setUp(executor);
    await t.accept('g');
    await t.reaches('g', 'running');
    await t.runner.stop(0);
    const job = t.store.get('g');
    assert.equal(job?.state, 'running');
    assert.equal(job?.timeline.at(-1)?.event, 'handed_back');
    assert.equal(t.journal.jobStates('g').at(-1), 'running');
    assert.ok(!t.stages.some((s) => s.stage === 'finished' || s.stage === 'failed'));
  });

  test('a running job whose journal fails still finishes in memory (it already acted)', async () => {
    const executor = new RecordingExecutor();
    let open!: () => void;
    executor.gate = new Promise<void>((r) => (open = r));
    const t = setUp(executor);
    await t.accept('j');
    await t.reaches('j', 'running');
    t.journal.failing = true;
    open();
    const done = await t.reaches('j', 'succeeded');
    assert.equal(done.patched, true);
    assert.notEqual(t.journal.jobStates('j').at(-1), 'succeeded', 'the journal missed it');
    assert.equal(t.stages.at(-1)?.stage, 'finished');
  });

  test('jobs for different targets run one at a time with concurrency 1, in order', async () => {
    const t = setUp();
    await t.accept('one');
    await t.accept('two');
    await t.reaches('two', 'succeeded');
    assert.deepEqual(t.executor.executed(), ['one', 'two']);
  });
});
