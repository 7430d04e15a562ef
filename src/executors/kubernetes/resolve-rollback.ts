// The one place that decides, from a snapshot of the workload and its history, whether a job
// rolls back and to what. plan(), execute() and recover() all call it, so a dry run can never
// disagree with a real run.
import type { ImageChange, Job } from '../../model/job.js';
import { becameCurrent, humanDuration, latestInstant } from './became-current.js';
import { imageDiff } from './image-diff.js';
import type {
  RevisionEntry,
  RevisionHistory,
  Workload,
  WorkloadKind,
} from '../../kube/kube-types.js';
import { parseLastRollback } from '../../kube/last-rollback.js';
import { blamedDeploy } from './restart-only.js';
import { templatesEqual } from './templates-equal.js';

export type Resolution =
  | { action: 'skip'; reason: string; fromRevision?: number; toRevision?: number }
  | {
      action: 'rollback';
      reason: string;
      from: RevisionEntry;
      to: RevisionEntry;
      fromRevision: number;
      toRevision: number;
      images: ImageChange[];
    };

export interface ResolveInput {
  kind: WorkloadKind;
  workload: Workload;
  history: RevisionHistory;
  job: Pick<Job, 'fromRevision' | 'toRevision' | 'alert'>;
  optOutAnnotation: string;
  /** policy.maxRevisionAgeSeconds: 0 = no limit. */
  maxRevisionAgeSeconds: number;
}

/** contract.md "Rules": any value but `false`, `no` or `0`, in any letter case, opts out (fails closed). */
export function optedOut(value: string | undefined): boolean {
  return value !== undefined && !['false', 'no', '0'].includes(value.trim().toLowerCase());
}

export function resolveRollback(input: ResolveInput): Resolution {
  const { kind, workload, history, job } = input;
  const ref = `${kind} ${workload.metadata.namespace ?? ''}/${workload.metadata.name ?? ''}`;
  const current = history.current;
  const currentRevision = history.currentRevision;
  const chain = current ? blamedDeploy(current, history.entries) : undefined;
  const target = chain ? chain.target : history.previous;
  const skip = (reason: string): Resolution => ({
    action: 'skip',
    reason,
    ...(currentRevision ? { fromRevision: currentRevision } : {}),
    ...(target ? { toRevision: target.revision } : {}),
  });

  const optOut = workload.metadata.annotations?.[input.optOutAnnotation];
  if (optedOut(optOut)) {
    return skip(
      `${ref} opted out of automatic rollback (annotation ${input.optOutAnnotation}=${JSON.stringify(optOut)}; only "false", "no" or "0" keep it in)`,
    );
  }
  if (kind === 'Deployment' && workload.spec.paused === true) {
    return skip(
      `${ref} is paused: a paused Deployment is not rolled back (resume it with kubectl rollout resume first)`,
    );
  }
  if (history.inFlux !== undefined || !current || !chain) {
    return skip(
      `${ref} is in flux: ${history.inFlux ?? 'it has no revision to blame'}; not rolled back, so a newer deploy is never undone (send the alert again once the rollout is processed)`,
    );
  }
  const { blamed, restarts } = chain;
  const pinnedOk =
    job.fromRevision === undefined ||
    [current, ...restarts, blamed].some((e) => e.revision === job.fromRevision);
  if (!pinnedOk) {
    return skip(
      `workload moved on: revision ${currentRevision} is current, alert was for ${job.fromRevision}`,
    );
  }
  const restartNote = restarts.length
    ? ` (revision ${restarts.map((r) => r.revision).join(' and ')} only restarted revision ${blamed.revision}: revision ${blamed.revision} is the deploy blamed)`
    : '';
  const last = parseLastRollback(workload.metadata.annotations);
  if (last && (isProducedBy(current, last) || isProducedBy(blamed, last))) {
    return skip(
      `refusing to roll back a rollback: revision ${blamed.revision} was restored by job ${last.jobId} (alert ${last.alert}) at ${last.at}${restartNote}`,
    );
  }
  const alertStart = Date.parse(job.alert.startsAt);
  if (Number.isFinite(alertStart)) {
    const timeSkip = timeCheck(input, blamed, alertStart);
    if (timeSkip) return skip(`${timeSkip}${restartNote}`);
  }
  if (job.toRevision !== undefined && target?.revision !== job.toRevision) {
    // Pinned: never go further back than the revision recorded for this job.
    return skip(
      `the pinned target revision ${job.toRevision} of ${ref} no longer exists${target ? ` (the next older one is ${target.revision}; not going further back than what was chosen)` : ''}`,
    );
  }
  if (!target) {
    return skip(
      `${ref} has no earlier revision to roll back to (revision ${blamed.revision} is the oldest)${restartNote}`,
    );
  }
  if (templatesEqual(target.template, workload.spec.template)) {
    return skip(`${ref}: current template already matches revision ${target.revision}`);
  }
  const dropped = restarts.length
    ? ` (revision ${restarts.map((r) => r.revision).join(' and ')} only restarted revision ${blamed.revision}, the deploy blamed; the restart is dropped: revision ${target.revision}'s template is restored as it was, and the rollback replaces every pod anyway)`
    : '';
  return {
    action: 'rollback',
    reason: `roll back ${ref} from revision ${currentRevision} to ${target.revision}${dropped}`,
    from: current,
    to: target,
    fromRevision: currentRevision,
    toRevision: target.revision,
    images: imageDiff(workload.spec.template, target.template),
  };
}

/**
 * "Moved on" and "only blame a recent change" for the revision blamed, each erring only in the
 * direction that skips (see became-current.ts). Returns the skip reason, if any.
 */
function timeCheck(
  input: ResolveInput,
  blamed: RevisionEntry,
  alertStart: number,
): string | undefined {
  const { kind, workload, history, job } = input;
  const n = blamed.revision;
  const since = becameCurrent(kind, workload, blamed, history);
  if (since.at === undefined) {
    return `cannot tell when revision ${n} became current (${since.evidence}), so it cannot be blamed for the alert that started at ${job.alert.startsAt}`;
  }
  if (latestInstant(since.at) >= alertStart) {
    const when =
      Date.parse(since.at) > alertStart
        ? 'after the alert started'
        : 'within the same second as the alert start, so possibly after it (the API server records whole seconds): not before the alert started';
    return `workload moved on: revision ${n} became current at ${since.at}, ${when} at ${job.alert.startsAt} (${since.evidence})`;
  }
  const maxAgeMs = input.maxRevisionAgeSeconds * 1000;
  if (maxAgeMs <= 0) return undefined;
  if (since.since === undefined) {
    return `cannot tell how long revision ${n} has been running (${since.evidence}; no earlier revision records a creation time), so it is not blamed (policy.maxRevisionAgeSeconds: ${input.maxRevisionAgeSeconds})`;
  }
  const age = alertStart - Date.parse(since.since);
  if (age <= maxAgeMs) return undefined;
  const limit = `(policy.maxRevisionAgeSeconds: ${input.maxRevisionAgeSeconds})`;
  if (since.sinceEvidence) {
    return `revision ${n} may have been running since ${since.since} (${since.sinceEvidence}), ${humanDuration(age)} before the alert: a change that may be that old is not blamed ${limit}`;
  }
  return `revision ${n} has been running since ${since.since}, ${humanDuration(age)} before the alert: the deploy is unlikely to be the cause ${limit}`;
}

/**
 * Whether the current revision is the one our last rollback went back to. The API server
 * renumbers a revision that becomes current again (a ReplicaSet records its old number in
 * `revision-history`), so match by name, by the old number, or by the history.
 */
function isProducedBy(
  current: RevisionEntry,
  last: { toRevision: number; toName?: string },
): boolean {
  if (last.toName !== undefined) return current.name === last.toName;
  return (
    current.revision === last.toRevision || current.previousRevisions.includes(last.toRevision)
  );
}
