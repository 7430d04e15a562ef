// The job runtime, wired in one place for the controller and the tests alike: the state, the one
// commit path (store) over the caller's journal, the approval and verification timers, the
// queue (runner), the watch on suspended GitOps owners, and the listeners that follow every
// committed change (Slack and metrics from the diff, timers, gauges). What Slack was sent is
// noted on the job's timeline without a journal write of its own.
import type { Logger } from 'pino';
import type { Executor } from '../model/executor.js';
import type { PreActCheck } from '../model/pre-act-check.js';
import type { JobNotifier } from '../model/job-notifier.js';
import type { ExecutorName, Job } from '../model/job.js';
import type { Metrics } from '../observability/metrics.js';
import { ControllerState } from './controller-state.js';
import { JobRunner } from './job-runner.js';
import { JobStore } from './job-store.js';
import { JobTimers, type SetTimer } from './job-timers.js';
import { recordSlackMessage } from './record-slack-message.js';
import { noted } from './job-transitions.js';
import type { JournalRecord } from './journal-record.js';
import { OwnerWatch } from './owner-watch.js';
import { reportJobChange } from './report-job-change.js';
import { defined } from '../model/defined.js';

export interface JobEngineOptions {
  /** Where committed records go: the journal (tests: memory). */
  append(records: JournalRecord[], o?: { durable?: boolean }): Promise<void>;
  executors: Partial<Record<ExecutorName, Executor>>;
  notifier: JobNotifier;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** Approval expiry and verification timers (tests fire them by hand). */
  setTimer?: SetTimer;
  concurrency: number;
  /** How long an executor may take to see its rollout (or script) through. */
  rolloutTimeoutMs: number;
  verificationWindowMs: number;
  /** How often suspended GitOps owners are checked for being turned back on. */
  ownerCheckIntervalMs: number;
  /** The Slack channel of a job's rule, if it names one. */
  channelFor?: (job: Job) => string | undefined;
  /** Why this replica must not act now (high availability), if so. */
  standby?: () => string | undefined;
  /** What a job passes, in order, before its executor acts (opt-out, HA marks and cooldown). */
  checks?: readonly PreActCheck[];
  /** The configured cluster name (the `cluster` label of the time-to-restore metric). */
  cluster?: string;
}

export interface JobEngine {
  state: ControllerState;
  store: JobStore;
  timers: JobTimers;
  runner: JobRunner;
  /** GitOps owners suspended by jobs and not yet turned back on. */
  owners: OwnerWatch;
  /** Queue depth, pause, circuit and suspended-owner gauges, from the state. */
  updateGauges: () => void;
}

export function createJobEngine(o: JobEngineOptions): JobEngine {
  const { logger, metrics, now } = o;
  const state = new ControllerState();
  const store = new JobStore({
    state,
    append: (records, opts) => o.append(records, opts),
    logger: logger.child({ component: 'store' }),
  });
  const timers = new JobTimers({
    store,
    now,
    verificationWindowMs: o.verificationWindowMs,
    logger: logger.child({ component: 'timers' }),
    ...defined({ setTimer: o.setTimer, standby: o.standby }),
  });
  const runner = new JobRunner({
    store,
    executors: o.executors,
    metrics,
    logger: logger.child({ component: 'queue' }),
    now,
    concurrency: o.concurrency,
    rolloutTimeoutMs: o.rolloutTimeoutMs,
    ...defined({ checks: o.checks }),
    onActivate: () => timers.activated(),
  });
  const owners = new OwnerWatch({
    store,
    executor: o.executors.kubernetes,
    metrics,
    logger: logger.child({ component: 'owners' }),
    now,
    intervalMs: o.ownerCheckIntervalMs,
    ...defined({ standby: o.standby }),
  });
  const sinks = {
    notifier: o.notifier,
    metrics,
    ...defined({ channelFor: o.channelFor, cluster: o.cluster }),
  };
  store.onJobChange((before, after) => reportJobChange(before, after, sinks));
  store.onJobChange(timers.changed);
  for (const check of o.checks ?? [])
    if (check.observe)
      store.onJobChange((before, after) => {
        if (check.applies(after)) check.observe?.(before, after);
      });
  const updateGauges = () => {
    metrics.queueDepth.set(state.count('queued'));
    metrics.paused.set(state.paused ? 1 : 0);
    metrics.circuitOpen.set(state.circuitOpen ? 1 : 0);
    owners.updateGauge();
  };
  store.onCommit(updateGauges);
  o.notifier.onSent?.((jobId, entry) => store.note(jobId, (j) => noted(j, entry, now())));
  // App mode: the job's message is state, journaled with the job (edits survive a restart).
  o.notifier.onPosted?.((jobId, ref) => void recordSlackMessage(store, jobId, ref, o.logger));
  o.notifier.onPosting?.((jobId, channel) =>
    recordSlackMessage(store, jobId, { intent: channel, at: now() }, o.logger),
  );
  return { state, store, timers, runner, owners, updateGauges };
}
