// The life of a job, in one place. Every change of state (and of verdict) is one of the pure
// functions below: each checks the move against the table, writes the timeline entry that
// explains it, and returns the next job. Nothing else builds `{ ...job, state }`.
//
//   open ──▶ awaiting_approval ──approve──▶ queued ──start──▶ running ──finish──▶ succeeded
//               ├──expire──▶ expired       ▲ (open, adopt)        │ ▲              failed
//               └──deny────▶ skipped
//                                                                 └─┘ resume,      skipped
//                                                                     handBack
//   succeeded: verdict pending ──alert resolved──▶ recovered, or ──window passed──▶ not_recovered
import type { ExecutionResult, JobPatch } from '../model/executor.js';
import {
  JobStates,
  type Job,
  type SlackAction,
  type SlackMessageRef,
  type JobOrigin,
  type JobState,
  type TimelineEntry,
  type Verdict,
} from '../model/job.js';
import { ownerKey } from '../model/owner.js';
import { TimelineEvent } from '../model/timeline-event.js';

const { AwaitingApproval, Queued, Running, Succeeded, Failed, Skipped, Expired } = JobStates;

/** The steps that move a job from one state to another (the functions of the same names). */
export type Step = 'approve' | 'deny' | 'expire' | 'start' | 'recover' | 'handBack' | 'finish';

/**
 * The legal moves, and nothing else. `resume` and `handBack` keep a job running: a restart or a
 * leader change re-checks it against the live state instead of starting it again.
 */
export const TRANSITIONS: ReadonlyArray<{ from: JobState; step: Step; to: JobState }> = [
  { from: AwaitingApproval, step: 'approve', to: Queued },
  { from: AwaitingApproval, step: 'expire', to: Expired },
  { from: AwaitingApproval, step: 'deny', to: Skipped },
  { from: Queued, step: 'start', to: Running },
  { from: Running, step: 'recover', to: Running },
  { from: Running, step: 'handBack', to: Running },
  { from: Running, step: 'finish', to: Succeeded },
  { from: Running, step: 'finish', to: Failed },
  { from: Running, step: 'finish', to: Skipped },
];

/** Verdict moves: set when a job succeeds, then settled at most once. */
export const VERDICT_TRANSITIONS: Readonly<Record<Verdict | 'none', readonly Verdict[]>> = {
  none: ['pending', 'recovered'],
  pending: ['recovered', 'not_recovered'],
  recovered: [],
  not_recovered: [],
};

const ALL_STATES = Object.values(JobStates);
/** States no step leaves. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(
  ALL_STATES.filter((s) => !TRANSITIONS.some((t) => t.from === s)),
);
export const ACTIVE_STATES: ReadonlySet<JobState> = new Set(
  ALL_STATES.filter((s) => !TERMINAL_STATES.has(s)),
);

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

export function isLegal(from: JobState, step: Step, to: JobState): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.step === step && t.to === to);
}

function move(job: Job, step: Step, to: JobState): void {
  if (!isLegal(job.state, step, to))
    throw new IllegalTransitionError(
      `job ${job.id}: ${step} cannot move a ${job.state} job to ${to}`,
    );
}

function moveVerdict(job: Job, to: Verdict): void {
  if (job.state !== Succeeded || !VERDICT_TRANSITIONS[job.verdict ?? 'none'].includes(to))
    throw new IllegalTransitionError(
      `job ${job.id}: verdict ${job.verdict ?? 'none'} → ${to} is not a legal move (state ${job.state})`,
    );
}

function iso(at: number): string {
  return new Date(at).toISOString();
}

function entry(
  at: number,
  event: TimelineEvent,
  message: string,
  data?: Record<string, unknown>,
): TimelineEntry {
  return data ? { at: iso(at), event, message, data } : { at: iso(at), event, message };
}

/** Everything a new job carries except what its life writes. */
export type JobFields = Omit<
  Job,
  'state' | 'origin' | 'createdAt' | 'timeline' | 'coalesced' | 'approval'
>;

/** A job for an alert: queued, or held for approval until `approvalExpiresAt`. */
export function open(
  fields: JobFields,
  o: { at: number; reason: string; approvalExpiresAt?: number },
): Job {
  const held = o.approvalExpiresAt;
  return {
    ...fields,
    origin: 'alert',
    coalesced: [],
    state: held === undefined ? Queued : AwaitingApproval,
    createdAt: iso(o.at),
    ...(held === undefined ? {} : { approval: { expiresAt: iso(held) } }),
    timeline: [
      entry(
        o.at,
        held === undefined ? TimelineEvent.Queued : TimelineEvent.AwaitingApproval,
        o.reason,
      ),
    ],
  };
}

/**
 * A job a previous leader accepted, re-created (same id) from the workload's mark: queued, or
 * still held for approval when the mark says so (`approval` without `approvedAt`).
 */
export function adopt(
  fields: JobFields,
  o: {
    createdAt: string;
    acceptedBy: string;
    by: string;
    at: number;
    approval?: Job['approval'];
  },
): Job {
  const origin: JobOrigin = 'adopted';
  const held = o.approval !== undefined && o.approval.approvedAt === undefined;
  return {
    ...fields,
    origin,
    coalesced: [],
    state: held ? AwaitingApproval : Queued,
    createdAt: o.createdAt,
    ...(o.approval ? { approval: o.approval } : {}),
    timeline: [
      {
        at: o.createdAt,
        event: held ? TimelineEvent.AwaitingApproval : TimelineEvent.Queued,
        message: `accepted by ${o.acceptedBy}`,
      },
      entry(
        o.at,
        TimelineEvent.Adopted,
        `adopted by ${o.by} after a leader change (the workload carried the job's pending-rollback mark)`,
      ),
    ],
  };
}

export function approve(job: Job, by: string, at: number): Job {
  move(job, 'approve', Queued);
  return {
    ...job,
    state: Queued,
    approval: { ...(job.approval ?? { expiresAt: iso(at) }), approvedAt: iso(at), approvedBy: by },
    timeline: [...job.timeline, entry(at, TimelineEvent.Approved, `approved by ${by}`)],
  };
}

/** An operator said no: nothing happens, and the job says who decided. */
export function deny(job: Job, by: string, at: number): Job {
  move(job, 'deny', Skipped);
  return {
    ...job,
    state: Skipped,
    outcome: 'skipped',
    reason: `denied by ${by}`,
    finishedAt: iso(at),
    timeline: [...job.timeline, entry(at, TimelineEvent.Denied, `denied by ${by}`)],
  };
}

export function expire(job: Job, at: number): Job {
  move(job, 'expire', Expired);
  return {
    ...job,
    state: Expired,
    finishedAt: iso(at),
    reason: 'approval expired',
    timeline: [
      ...job.timeline,
      entry(at, TimelineEvent.Expired, `no approval before ${job.approval?.expiresAt ?? iso(at)}`),
    ],
  };
}

export function start(job: Job, at: number): Job {
  move(job, 'start', Running);
  return {
    ...job,
    state: Running,
    startedAt: job.startedAt ?? iso(at),
    timeline: [
      ...job.timeline,
      entry(at, TimelineEvent.Started, `started by the ${job.executor} executor`),
    ],
  };
}

/** A job found running after a restart (or handed back by a leader): re-check the live state. */
export function recover(job: Job, at: number): Job {
  move(job, 'recover', Running);
  return {
    ...job,
    startedAt: job.startedAt ?? iso(at),
    timeline: [
      ...job.timeline,
      entry(
        at,
        TimelineEvent.Recovering,
        'controller restarted while this job was running; re-checking the live state',
      ),
    ],
  };
}

/** Interrupted: the job stays running, for the next start (or the next leader) to re-check. */
export function handBack(job: Job, why: 'shutdown' | 'leadership', at: number): Job {
  move(job, 'handBack', Running);
  return {
    ...job,
    timeline: [
      ...job.timeline,
      entry(
        at,
        TimelineEvent.HandedBack,
        why === 'shutdown'
          ? 'controller shut down while the job was running; it will be re-checked on start'
          : 'leadership moved to another replica while the job was running; the leader re-checks it',
      ),
    ],
  };
}

/**
 * The executor's result. A success opens verification, or closes it at once when the triggering
 * alert already resolved while the job ran.
 */
export function finish(job: Job, result: ExecutionResult, at: number): Job {
  const state = result.outcome;
  move(job, 'finish', state);
  return {
    ...job,
    ...(result.fields ?? {}),
    state,
    outcome: result.outcome,
    reason: result.reason,
    finishedAt: iso(at),
    ...(state === Succeeded
      ? job.alertResolvedAt
        ? { verdict: 'recovered' as const, recoverySeconds: 0 }
        : { verdict: 'pending' as const }
      : {}),
    timeline: [...job.timeline, entry(at, result.outcome, result.reason)],
  };
}

/** The triggering alert resolved `recoverySeconds` after the rollback finished. */
export function recovered(job: Job, recoverySeconds: number, at: number): Job {
  moveVerdict(job, 'recovered');
  return {
    ...job,
    verdict: 'recovered',
    recoverySeconds,
    timeline: [
      ...job.timeline,
      entry(
        at,
        TimelineEvent.Recovered,
        `alert resolved ${Math.round(recoverySeconds)}s after the rollback finished`,
      ),
    ],
  };
}

export function notRecovered(job: Job, windowSeconds: number, at: number): Job {
  moveVerdict(job, 'not_recovered');
  return {
    ...job,
    verdict: 'not_recovered',
    timeline: [
      ...job.timeline,
      entry(
        at,
        TimelineEvent.NotRecovered,
        `the alert did not resolve within ${windowSeconds}s of the rollback`,
      ),
    ],
  };
}

/** The triggering alert resolved before the job finished: it is `recovered` once it succeeds. */
export function alertResolved(job: Job, at: number): Job {
  if (!ACTIVE_STATES.has(job.state))
    throw new IllegalTransitionError(`job ${job.id} is ${job.state}, not active`);
  return {
    ...job,
    alertResolvedAt: iso(at),
    timeline: [
      ...job.timeline,
      entry(
        at,
        TimelineEvent.AlertResolved,
        `the triggering alert resolved while the job was ${job.state}`,
      ),
    ],
  };
}

/** The revision current when the alert arrived, recorded before the job can start. */
export function pinned(job: Job, patch: JobPatch, at: number): Job {
  const message =
    patch.fromRevision !== undefined
      ? `pinned current revision ${patch.fromRevision}`
      : 'nothing to pin';
  return {
    ...job,
    ...patch,
    timeline: [...job.timeline, entry(at, TimelineEvent.Pinned, message)],
  };
}

/**
 * A human turned back on an owner this job had suspended (noticed by the controller's check):
 * the job's own state does not change.
 */
export function ownerResumed(job: Job, key: string, at: number): Job {
  const owner = job.owner;
  const target = owner?.suspended?.find((o) => ownerKey(o) === key && !o.resumedAt);
  if (!owner || !target) return job;
  const what = `${target.object.kind} ${target.object.namespace}/${target.object.name}`;
  return {
    ...job,
    owner: {
      ...owner,
      suspended: (owner.suspended ?? []).map((o) =>
        o === target ? { ...o, resumedAt: iso(at) } : o,
      ),
    },
    timeline: [
      ...job.timeline,
      entry(at, TimelineEvent.OwnerResumed, `${what} was turned back on outside the controller`, {
        object: what,
      }),
    ],
  };
}

/** A Slack user acted from the job's message (the state change itself is its own step). */
export function actedInSlack(job: Job, action: Omit<SlackAction, 'at'>, at: number): Job {
  return { ...job, slackActions: [...(job.slackActions ?? []), { ...action, at: iso(at) }] };
}

/** App mode: where the job's Slack message lives, once it was posted. */
/** The job's message is about to be posted (see Job.slackPosting). */
export function postingToSlack(job: Job, channel: string, at: number): Job {
  return { ...job, slackPosting: { channel, at: iso(at) } };
}

export function postedToSlack(job: Job, ref: SlackMessageRef): Job {
  return { ...job, slack: { channel: ref.channel, ts: ref.ts } };
}

/** Fields an executor recorded while acting. */
export function recorded(job: Job, patch: JobPatch): Job {
  return { ...job, ...patch };
}

/** A timeline entry that changes nothing else: executor progress, notes, what Slack was sent. */
export function noted(
  job: Job,
  e: { event: TimelineEvent; message: string; data?: Record<string, unknown> },
  at: number,
): Job {
  return { ...job, timeline: [...job.timeline, entry(at, e.event, e.message, e.data)] };
}
