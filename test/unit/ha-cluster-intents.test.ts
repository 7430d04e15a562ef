import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { pino } from 'pino';
import type {
  ExecutionContext,
  ExecutionResult,
  Executor,
  JobPatch,
} from '../../src/model/executor.js';
import type { Workload } from '../../src/kube/kube-types.js';
import { LAST_ROLLBACK_ANNOTATION } from '../../src/kube/last-rollback.js';
import { adoptionPlan } from '../../src/ha/adoption-plan.js';
import { scanNamespaces } from '../../src/ha/high-availability-from-env.js';
import { readHaSettings } from '../../src/ha/ha-settings.js';
import {
  markProblem,
  PENDING_ROLLBACK_ANNOTATION,
  parsePending,
  pendingFor,
  signedPending,
  type PendingRollback,
} from '../../src/ha/pending-rollback.js';
import { replicaKey } from '../../src/http/replica-key.js';
import { approve, deny, postedToSlack, actedInSlack } from '../../src/jobs/job-transitions.js';
import { clusterIntentChecks } from '../../src/ha/cluster-intent-checks.js';
import { ControllerState } from '../../src/jobs/controller-state.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { TERMINAL_STATES } from '../../src/jobs/job-transitions.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { TimelineEvent } from '../../src/model/timeline-event.js';
import type { MarkedWorkload, WorkloadMarks } from '../../src/ha/workload-marks.js';
import type { Job } from '../../src/model/job.js';
import type { WorkloadRef } from '../../src/model/workload-ref.js';

const NOW = Date.parse('2026-11-22T10:30:00.000Z');
const REF: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };

function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job-1',
    targetKey: 'Deployment/shop/api',
    executor: 'kubernetes',
    origin: 'alert',
    target: REF,
    rule: 'CriticalErrorRate',
    trigger: 'error_rate_threshold',
    confidence: 'high',
    alert: {
      alertname: 'CriticalErrorRate',
      fingerprint: 'fp-1',
      startsAt: '2026-11-22T10:20:00.000Z',
      labels: { alertname: 'CriticalErrorRate', deployment: 'api' },
      annotations: {},
      generatorURL: '',
      externalURL: '',
      receivedAt: NOW - 60_000,
    },
    coalesced: [],
    state: 'queued',
    createdAt: '2026-11-22T10:29:00.000Z',
    fromRevision: 2,
    timeline: [],
    ...overrides,
  };
}

/** Marks on one workload, in memory, recording what was written and cleared. */
function memoryMarks(annotations: Record<string, string> = {}) {
  const w = { metadata: { name: 'api', namespace: 'shop', annotations: { ...annotations } } };
  const log: string[] = [];
  const marks: WorkloadMarks = {
    read: async () => structuredClone(w) as Workload,
    mark: async (_ref, pending) => {
      log.push(`mark ${pending.jobId}`);
      w.metadata.annotations[PENDING_ROLLBACK_ANNOTATION] = JSON.stringify(pending);
    },
    clear: async (_ref, jobId) => {
      log.push(`clear ${jobId}`);
      delete w.metadata.annotations[PENDING_ROLLBACK_ANNOTATION];
      return true;
    },
    list: async () => [],
  };
  return { marks, log, workload: w };
}

function recordingExecutor(result: ExecutionResult = { outcome: 'succeeded', reason: 'done' }) {
  const calls: string[] = [];
  const executor: Executor = {
    name: 'kubernetes',
    availability: async () => ({ available: true }),
    plan: async () => ({ action: 'rollback', reason: 'would roll back' }),
    pin: async (j) => {
      calls.push(`pin ${j.id}`);
      return { fromRevision: 2, toRevision: 1 } satisfies JobPatch;
    },
    execute: async (j) => {
      calls.push(`execute ${j.id}`);
      return result;
    },
    recover: async (j) => {
      calls.push(`recover ${j.id}`);
      return result;
    },
  };
  return { executor, calls };
}

/**
 * The real runner with high availability's pre-act checks, as the controller wires them: a job
 * is recorded, handed to the runner (pinned first, like a fresh alert, unless `pin: false`), and
 * the test waits for it to end, be handed back, or (held for approval) be pinned.
 */
function run(
  inner: Executor,
  marks: WorkloadMarks,
  j: Job,
  o: { leading?: () => boolean; pin?: boolean } = {},
) {
  const logger = pino({ enabled: false });
  const state = new ControllerState();
  const store = new JobStore({ state, append: async () => undefined, logger });
  const runner = new JobRunner({
    store,
    executors: { kubernetes: inner },
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    now: () => NOW,
    concurrency: 1,
    rolloutTimeoutMs: 60_000,
    checks: clusterIntentChecks({
      marks,
      identity: 'replica-a',
      cooldownMs: 30 * 60_000,
      leading: o.leading ?? (() => true),
      now: () => NOW,
      logger,
    }),
  });
  const settled = new Promise<Job>((resolve) =>
    store.onJobChange((_, after) => {
      const last = after.timeline.at(-1)?.event;
      if (TERMINAL_STATES.has(after.state) || last === TimelineEvent.HandedBack) resolve(after);
      // A job held for approval goes no further than its pin.
      if (after.state === 'awaiting_approval' && last === TimelineEvent.Pinned) resolve(after);
    }),
  );
  const done = (async () => {
    await store.commit([{ t: 'job', job: j }]);
    if (j.state === 'running') runner.start();
    else if (o.pin === false) runner.enqueue(j);
    else runner.accepted(j);
    return settled;
  })();
  return { done, runner, store };
}

const lastRollback = (o: Record<string, unknown>) => ({
  [LAST_ROLLBACK_ANNOTATION]: JSON.stringify({
    jobId: 'old-job',
    alert: 'CriticalErrorRate',
    trigger: 'error_rate_threshold',
    fromRevision: 4,
    toRevision: 3,
    at: '2026-11-22T10:10:00.000Z',
    ...o,
  }),
});

describe('high availability checks before a Kubernetes job acts', () => {
  test('pin marks the workload with the job and its pinned revision; the end clears it', async () => {
    const { marks, log, workload } = memoryMarks();
    const inner = recordingExecutor();
    const j = job();
    delete j.fromRevision; // pinned by the runner itself
    const pendingAtStart: Array<PendingRollback | undefined> = [];
    const execute = inner.executor.execute;
    inner.executor.execute = (jb, c) => {
      pendingAtStart.push(parsePending(workload.metadata.annotations));
      return execute(jb, c);
    };
    const ended = await run(inner.executor, marks, j).done;
    assert.equal(ended.outcome, 'succeeded');
    assert.equal(pendingAtStart[0]?.jobId, 'job-1');
    assert.equal(pendingAtStart[0]?.fromRevision, 2);
    assert.equal(pendingAtStart[0]?.acceptedBy, 'replica-a');
    assert.deepEqual(log, ['mark job-1', 'clear job-1']);
    assert.deepEqual(inner.calls, ['pin job-1', 'execute job-1']);
    assert.equal(workload.metadata.annotations[PENDING_ROLLBACK_ANNOTATION], undefined);
  });

  test('the runner does not mark a held job at pin time (its committed changes do, below), but does when it runs', async () => {
    const { marks, log } = memoryMarks();
    const held = job({ state: 'awaiting_approval' });
    delete held.fromRevision; // so the runner pins it
    const pinned = await run(recordingExecutor().executor, marks, held).done;
    assert.equal(pinned.fromRevision, 2);
    assert.deepEqual(log, []);
    assert.equal(
      (await run(recordingExecutor().executor, marks, job(), { pin: false }).done).outcome,
      'succeeded',
    );
    assert.deepEqual(log, ['mark job-1', 'clear job-1']);
  });

  test("another job's rollback inside the cooldown skips the job (a new leader with an empty journal)", async () => {
    const { marks, log } = memoryMarks(lastRollback({ fingerprint: 'fp-other' }));
    const inner = recordingExecutor();
    const ended = await run(inner.executor, marks, job(), { pin: false }).done;
    assert.equal(ended.outcome, 'skipped');
    assert.match(ended.reason ?? '', /^cooldown \(from the workload's last-rollback annotation\)/);
    assert.match(ended.reason ?? '', /old-job/);
    assert.deepEqual(inner.calls, [], 'the executor never ran');
    assert.deepEqual(log, ['clear job-1']);
  });

  test('the same alert instance already rolled back by another job is a duplicate, cooldown or not', async () => {
    const { marks } = memoryMarks(
      lastRollback({
        fingerprint: 'fp-1',
        startsAt: '2026-11-22T10:20:00.000Z',
        at: '2026-11-21T00:00:00.000Z',
      }),
    );
    const inner = recordingExecutor();
    const ended = await run(inner.executor, marks, job(), { pin: false }).done;
    assert.equal(ended.outcome, 'skipped');
    assert.match(
      ended.reason ?? '',
      /^duplicate: job old-job already rolled back for this alert instance/,
    );
    assert.deepEqual(inner.calls, []);
  });

  test('an old rollback outside the cooldown does not stop the job', async () => {
    const { marks } = memoryMarks(lastRollback({ at: '2026-11-22T09:00:00.000Z' }));
    const inner = recordingExecutor();
    assert.equal(
      (await run(inner.executor, marks, job(), { pin: false }).done).outcome,
      'succeeded',
    );
    assert.deepEqual(inner.calls, ['execute job-1']);
  });

  test('an adopted job, or one whose own record is on the workload, only follows (recover)', async () => {
    const adopted = job({
      origin: 'adopted',
      timeline: [{ at: 'x', event: TimelineEvent.Adopted, message: 'adopted' }],
    });
    const a = recordingExecutor();
    await run(a.executor, memoryMarks().marks, adopted, { pin: false }).done;
    assert.deepEqual(a.calls, ['recover job-1']);

    const b = recordingExecutor();
    const own = memoryMarks(lastRollback({ jobId: 'job-1', at: new Date(NOW).toISOString() }));
    const ended = await run(b.executor, own.marks, job(), { pin: false }).done;
    assert.equal(ended.outcome, 'succeeded', 'its own recent rollback is no cooldown');
    assert.deepEqual(b.calls, ['recover job-1']);
  });

  test('a job cut short because leadership moved keeps its mark for the new leader', async () => {
    const { marks, log, workload } = memoryMarks();
    let leading = true;
    const inner = recordingExecutor();
    inner.executor.execute = async () => {
      leading = false;
      return { outcome: 'failed', reason: 'interrupted' };
    };
    await run(inner.executor, marks, job(), { pin: false, leading: () => leading }).done;
    assert.deepEqual(log, ['mark job-1']);
    assert.equal(parsePending(workload.metadata.annotations)?.jobId, 'job-1');

    // Handed back when the runner stands by (leadership moved) mid-job: not cleared either.
    const inner2 = recordingExecutor();
    const second = memoryMarks();
    const hold: { standby?: () => Promise<void> } = {};
    inner2.executor.execute = (_j, c: ExecutionContext) =>
      new Promise((_, reject) => {
        c.signal.addEventListener('abort', () =>
          reject(Object.assign(new Error('interrupted'), { name: 'AbortError' })),
        );
        void hold.standby?.();
      });
    const r = run(inner2.executor, second.marks, job(), { pin: false });
    hold.standby = () => r.runner.standby();
    const handedBack = await r.done;
    assert.equal(handedBack.state, 'running');
    assert.deepEqual(second.log, ['mark job-1'], 'handed back: not cleared');
  });
});

describe('adoptionPlan', () => {
  const pending = (id: string, createdAt: string): PendingRollback => ({
    ...pendingFor(job({ id, createdAt }), 'replica-a'),
  });
  const none = { jobs: new Map<string, Job>(), activeJob: () => undefined };

  test('re-creates unknown jobs under their ids, pinned, oldest first, with their alert instance', () => {
    const marked: MarkedWorkload[] = [
      { ref: { ...REF, name: 'web' }, pending: pending('j2', '2026-11-22T10:29:02.000Z') },
      { ref: REF, pending: pending('j1', '2026-11-22T10:29:01.000Z') },
    ];
    const plan = adoptionPlan(marked, none, { now: NOW, identity: 'replica-b' });
    assert.deepEqual(
      plan.adopt.map((j) => [j.id, j.targetKey, j.state, j.fromRevision]),
      [
        ['j1', 'Deployment/shop/api', 'queued', 2],
        ['j2', 'Deployment/shop/web', 'queued', 2],
      ],
    );
    assert.equal(plan.adopt[0]?.timeline.at(-1)?.event, TimelineEvent.Adopted);
    assert.match(plan.adopt[0]?.timeline.at(-1)?.message ?? '', /replica-b/);
    assert.deepEqual(
      plan.records.filter((r) => r.t === 'instance'),
      [
        {
          t: 'instance',
          at: NOW,
          key: 'fp-1@2026-11-22T10:20:00.000Z',
          decision: 'queued',
          jobId: 'j1',
        },
        {
          t: 'instance',
          at: NOW,
          key: 'fp-1@2026-11-22T10:20:00.000Z',
          decision: 'queued',
          jobId: 'j2',
        },
      ],
    );
  });

  test('known jobs are left to the queue; finished ones and unreadable marks are cleared', () => {
    const jobs = new Map<string, Job>([
      ['active', job({ id: 'active', state: 'running' })],
      ['done', job({ id: 'done', state: 'succeeded' })],
    ]);
    const view = { jobs, activeJob: () => undefined };
    const marked: MarkedWorkload[] = [
      { ref: REF, pending: pending('active', '2026-11-22T10:29:00.000Z') },
      { ref: { ...REF, name: 'web' }, pending: pending('done', '2026-11-22T10:29:00.000Z') },
      { ref: { ...REF, name: 'cart' } },
    ];
    const plan = adoptionPlan(marked, view, { now: NOW, identity: 'b' });
    assert.deepEqual(plan.adopt, []);
    assert.deepEqual(
      plan.clear.map((c) => [c.ref.name, c.jobId]),
      [
        ['cart', undefined],
        ['web', 'done'],
      ],
    );
  });

  test('a workload with another active job here is not adopted twice', () => {
    const other = job({ id: 'mine', state: 'queued' });
    const view = { jobs: new Map([['mine', other]]), activeJob: () => other };
    const plan = adoptionPlan(
      [{ ref: REF, pending: pending('theirs', '2026-11-22T10:29:00.000Z') }],
      view,
      {
        now: NOW,
        identity: 'b',
      },
    );
    assert.deepEqual(plan.adopt, []);
    assert.match(plan.ignored[0]?.why ?? '', /job mine/);
  });
});

describe('pending-rollback annotation', () => {
  test('round-trips, and refuses what it cannot re-create a job from', () => {
    const p = pendingFor(job(), 'replica-a');
    assert.deepEqual(parsePending({ [PENDING_ROLLBACK_ANNOTATION]: JSON.stringify(p) }), p);
    assert.equal(parsePending({ [PENDING_ROLLBACK_ANNOTATION]: '{not json' }), undefined);
    assert.equal(
      parsePending({ [PENDING_ROLLBACK_ANNOTATION]: JSON.stringify({ ...p, confidence: 'huge' }) }),
      undefined,
    );
    assert.equal(parsePending({}), undefined);
  });

  test('keeps the pinned target revision too, so an adopted job never goes further back', () => {
    const p = pendingFor(job({ fromRevision: 3, toRevision: 2 }), 'replica-a');
    assert.deepEqual([p.fromRevision, p.toRevision], [3, 2]);
    const read = parsePending({ [PENDING_ROLLBACK_ANNOTATION]: JSON.stringify(p) });
    assert.equal(read?.toRevision, 2);
    const plan = adoptionPlan(
      [{ ref: REF, pending: read }],
      { jobs: new Map(), activeJob: () => undefined },
      { now: NOW, identity: 'replica-b' },
    );
    assert.deepEqual([plan.adopt[0]?.fromRevision, plan.adopt[0]?.toRevision], [3, 2]);
    // A pin made now (the executor's answer) replaces the job's older one as a pair.
    const repinned = pendingFor(job({ fromRevision: 3, toRevision: 2 }), 'replica-a', {
      fromRevision: 4,
    });
    assert.deepEqual([repinned.fromRevision, repinned.toRevision], [4, undefined]);
  });
});

describe('HA settings', () => {
  test('off unless ROLLBACK_LEADER_ELECTION=true; defaults from the downward API names', () => {
    assert.deepEqual(readHaSettings({}), { enabled: false });
    assert.deepEqual(
      readHaSettings({
        ROLLBACK_LEADER_ELECTION: 'true',
        POD_NAME: 'rc-0',
        POD_NAMESPACE: 'ops',
        POD_IP: '10.0.0.7',
      }),
      {
        enabled: true,
        settings: {
          identity: 'rc-0',
          advertiseUrl: 'http://10.0.0.7:8080',
          leaseNamespace: 'ops',
          leaseName: 'rollback-controller',
          leaseDurationMs: 15_000,
          renewDeadlineMs: 10_000,
          retryPeriodMs: 2_000,
        },
      },
    );
    const fallback = readHaSettings({ ROLLBACK_LEADER_ELECTION: 'true' }, 42);
    assert.ok('settings' in fallback && fallback.settings.identity.endsWith('-42'));
    assert.equal('settings' in fallback && fallback.settings.leaseNamespace, 'default');
  });

  test('the URL a leader publishes: ROLLBACK_ADVERTISE_URL, else POD_IP:PORT, else the hostname', () => {
    const url = (env: Record<string, string>) => {
      const r = readHaSettings({ ROLLBACK_LEADER_ELECTION: 'true', ...env });
      return 'settings' in r ? r.settings.advertiseUrl : r;
    };
    assert.equal(url({ POD_IP: '10.0.0.7', PORT: '9090' }), 'http://10.0.0.7:9090');
    assert.equal(url({ POD_IP: 'fd00::7' }), 'http://[fd00::7]:8080');
    assert.equal(
      url({ POD_IP: '10.0.0.7', ROLLBACK_ADVERTISE_URL: 'http://rc-0.rc.ops.svc:8080/' }),
      'http://rc-0.rc.ops.svc:8080',
    );
    assert.equal(url({ PORT: '8081' }), `http://${hostname()}:8081`);
    for (const bad of ['https://rc:8443', 'http://rc:8080/api', 'not a url']) {
      const r = url({ ROLLBACK_ADVERTISE_URL: bad });
      assert.ok(typeof r === 'object' && 'problems' in r, bad);
      assert.match(r.problems[0] ?? '', /ROLLBACK_ADVERTISE_URL: must be an http:\/\/ URL/);
    }
  });

  test('rejects timings that would let two replicas act at once', () => {
    const r = readHaSettings({
      ROLLBACK_LEADER_ELECTION: 'true',
      ROLLBACK_LEASE_DURATION_SECONDS: '5',
      ROLLBACK_LEASE_RENEW_DEADLINE_SECONDS: '5',
    });
    assert.ok('problems' in r);
    assert.match(r.problems[0] ?? '', /RENEW_DEADLINE.*shorter than.*LEASE_DURATION/);
    const bad = readHaSettings({
      ROLLBACK_LEADER_ELECTION: 'true',
      ROLLBACK_LEASE_DURATION_SECONDS: '2.5',
    });
    assert.ok('problems' in bad && /whole number/.test(bad.problems[0] ?? ''));
  });

  test('scans the allowed namespaces when they are literal, else cluster-wide', () => {
    assert.deepEqual(scanNamespaces(['shop', 'payments']), ['shop', 'payments']);
    assert.equal(scanNamespaces(['*']), undefined);
    assert.equal(scanNamespaces(['team-*', 'shop']), undefined);
  });
});

describe('a job held for approval and its Slack message survive a failover', () => {
  const SLACK = { channel: 'C0DEPLOYS', ts: '1796660853.000001' };
  const ALICE = { id: 'U0ALICE', name: 'alice' };

  test('the mark follows the held job: held, its message, approved; a denied one is cleared', async () => {
    const { marks, log, workload } = memoryMarks();
    const written: Array<() => void> = [];
    const mark = marks.mark;
    marks.mark = async (ref, p, signal) => {
      await mark(ref, p, signal);
      written.shift()?.();
    };
    const nextWrite = () => new Promise<void>((resolve) => written.push(resolve));
    const [, pending] = clusterIntentChecks({
      marks,
      identity: 'replica-a',
      cooldownMs: 0,
      leading: () => true,
      now: () => NOW,
      logger: pino({ enabled: false }),
    });
    const read = () => parsePending(workload.metadata.annotations);
    const held = job({
      state: 'awaiting_approval',
      approval: { expiresAt: '2026-11-22T11:30:00.000Z' },
    });
    let w = nextWrite();
    pending.observe!(undefined, held);
    await w;
    assert.deepEqual(read()?.approval, { expiresAt: '2026-11-22T11:30:00.000Z' });
    assert.equal(read()?.slack, undefined);

    const posted = postedToSlack(held, SLACK);
    w = nextWrite();
    pending.observe!(held, posted);
    await w;
    assert.deepEqual(read()?.slack, SLACK, 'the message a new leader edits');

    // A change a new leader does not need writes nothing (a progress note, a timeline entry).
    pending.observe!(posted, { ...posted, timeline: [...posted.timeline] });

    const approved = actedInSlack(
      approve(posted, 'slack:alice (U0ALICE)', NOW),
      { action: 'approve', user: ALICE },
      NOW,
    );
    w = nextWrite();
    pending.observe!(posted, approved);
    await w;
    assert.equal(read()?.approval?.approvedBy, 'slack:alice (U0ALICE)');
    assert.deepEqual(
      read()?.slackActions?.map((a) => [a.action, a.user.id]),
      [['approve', 'U0ALICE']],
    );
    assert.deepEqual(log, ['mark job-1', 'mark job-1', 'mark job-1']);

    // Another held job, denied: nothing runs it, so the mark goes with the decision.
    const other = job({
      id: 'job-2',
      state: 'awaiting_approval',
      approval: { expiresAt: '2026-11-22T11:30:00.000Z' },
    });
    const cleared = new Promise<void>((resolve) => {
      const clear = marks.clear;
      marks.clear = async (ref, id, signal) => {
        const r = await clear(ref, id, signal);
        resolve();
        return r;
      };
    });
    pending.observe!(other, deny(other, 'slack:alice (U0ALICE)', NOW));
    await cleared;
    assert.deepEqual(log.slice(3), ['clear job-2']);
  });

  test('a new leader re-creates the held job (still held) and the approved one, each with its message', () => {
    const expiresAt = '2026-11-22T11:30:00.000Z';
    const held = parsePending({
      [PENDING_ROLLBACK_ANNOTATION]: JSON.stringify(
        pendingFor(job({ id: 'held', approval: { expiresAt }, slack: SLACK }), 'replica-a'),
      ),
    })!;
    const approvedJob = actedInSlack(
      approve(
        job({ id: 'ok', state: 'awaiting_approval', approval: { expiresAt }, slack: SLACK }),
        'slack:alice (U0ALICE)',
        NOW,
      ),
      { action: 'approve', user: ALICE },
      NOW,
    );
    const approved = parsePending({
      [PENDING_ROLLBACK_ANNOTATION]: JSON.stringify(pendingFor(approvedJob, 'replica-a')),
    })!;
    const plan = adoptionPlan(
      [
        { ref: REF, pending: held },
        { ref: { ...REF, name: 'web' }, pending: approved },
      ],
      { jobs: new Map(), activeJob: () => undefined },
      { now: NOW, identity: 'replica-b' },
    );
    assert.deepEqual(
      plan.adopt.map((j) => [j.id, j.state, j.slack?.ts, j.approval?.approvedBy]),
      [
        ['held', 'awaiting_approval', SLACK.ts, undefined],
        ['ok', 'queued', SLACK.ts, 'slack:alice (U0ALICE)'],
      ],
    );
    assert.deepEqual(
      plan.adopt[1]?.slackActions?.map((a) => a.user.id),
      ['U0ALICE'],
    );
    assert.deepEqual(
      plan.records
        .filter((r) => r.t === 'instance')
        .map((r) => (r as { decision: string }).decision),
      ['awaiting_approval', 'queued'],
    );
  });

  test('the message and the approval are signed with the mark; a mark from before them still verifies', () => {
    const key = replicaKey('webhook-secret', 'operator-secret')!;
    const workload = { ref: REF, uid: 'uid-1' };
    const withSlack = pendingFor(
      job({
        state: 'awaiting_approval',
        approval: { expiresAt: '2026-11-22T11:30:00.000Z' },
        slack: SLACK,
      }),
      'replica-a',
    );
    const value = signedPending(withSlack, workload, key);
    assert.equal(markProblem({ [PENDING_ROLLBACK_ANNOTATION]: value }, workload, key), undefined);
    // Someone who may patch the workload points the mark at another message: refused.
    const moved = JSON.stringify({ ...JSON.parse(value), slack: { ...SLACK, ts: '1.2' } });
    assert.match(
      markProblem({ [PENDING_ROLLBACK_ANNOTATION]: moved }, workload, key) ?? '',
      /signature/,
    );
    // ... or makes an approved job held again (so it could be approved twice): refused too.
    const approvedMark = signedPending(
      pendingFor(
        approve(
          job({ state: 'awaiting_approval', approval: { expiresAt: '2026-11-22T11:30:00.000Z' } }),
          'op',
          NOW,
        ),
        'replica-a',
      ),
      workload,
      key,
    );
    const parsed = JSON.parse(approvedMark);
    const heldAgain = JSON.stringify({
      ...parsed,
      approval: { expiresAt: parsed.approval.expiresAt },
    });
    assert.equal(
      markProblem({ [PENDING_ROLLBACK_ANNOTATION]: approvedMark }, workload, key),
      undefined,
    );
    assert.match(
      markProblem({ [PENDING_ROLLBACK_ANNOTATION]: heldAgain }, workload, key) ?? '',
      /signature/,
    );
    const plain = pendingFor(job(), 'replica-a');
    assert.equal(
      markProblem(
        { [PENDING_ROLLBACK_ANNOTATION]: signedPending(plain, workload, key) },
        workload,
        key,
      ),
      undefined,
      'a mark without the new fields signs the same fields as before',
    );
  });
});
