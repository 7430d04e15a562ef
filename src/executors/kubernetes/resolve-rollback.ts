// The one place that decides, from a snapshot of the workload and its history, whether a job
// rolls back and to what. plan(), execute() and recover() all call it, so a dry run can never
// disagree with a real run.
import type { ImageChange, Job } from '../../model/job.js';
import { becameCurrent, humanDuration } from './became-current.js';
import { imageDiff } from './image-diff.js';
import type {
  RevisionEntry,
  RevisionHistory,
  Workload,
  WorkloadKind,
} from '../../kube/kube-types.js';
import { parseLastRollback } from '../../kube/last-rollback.js';
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

/** SPEC: any value but `false`, `no` or `0`, in any letter case, opts out (fails closed). */
export function optedOut(value: string | undefined): boolean {
  return value !== undefined && !['false', 'no', '0'].includes(value.trim().toLowerCase());
}

export function resolveRollback(input: ResolveInput): Resolution {
  const { kind, workload, history, job } = input;
  const ref = `${kind} ${workload.metadata.namespace ?? ''}/${workload.metadata.name ?? ''}`;
  const current = history.current;
  const currentRevision = history.currentRevision;
  const skip = (reason: string): Resolution => ({
    action: 'skip',
    reason,
    ...(currentRevision ? { fromRevision: currentRevision } : {}),
    ...(history.previous ? { toRevision: history.previous.revision } : {}),
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
  if (job.fromRevision !== undefined && currentRevision !== job.fromRevision) {
    return skip(
      `workload moved on: revision ${currentRevision} is current, alert was for ${job.fromRevision}`,
    );
  }
  const last = parseLastRollback(workload.metadata.annotations);
  if (last && current && isProducedBy(current, last)) {
    return skip(
      `refusing to roll back a rollback: revision ${currentRevision} was restored by job ${last.jobId} (alert ${last.alert}) at ${last.at}`,
    );
  }
  const alertStart = Date.parse(job.alert.startsAt);
  if (current && Number.isFinite(alertStart)) {
    const since = becameCurrent(kind, workload, current);
    if (since.at === undefined) {
      return skip(
        `cannot tell when revision ${currentRevision} became current (${since.evidence}), so it cannot be blamed for the alert that started at ${job.alert.startsAt}`,
      );
    }
    const at = Date.parse(since.at);
    if (at > alertStart) {
      return skip(
        `workload moved on: revision ${currentRevision} became current at ${since.at}, after the alert started at ${job.alert.startsAt} (${since.evidence})`,
      );
    }
    const maxAgeMs = input.maxRevisionAgeSeconds * 1000;
    if (maxAgeMs > 0 && alertStart - at > maxAgeMs) {
      return skip(
        `revision ${currentRevision} has been running since ${since.at}, ${humanDuration(alertStart - at)} before the alert: the deploy is unlikely to be the cause (policy.maxRevisionAgeSeconds: ${input.maxRevisionAgeSeconds})`,
      );
    }
  }
  const target = history.previous;
  if (job.toRevision !== undefined && target?.revision !== job.toRevision) {
    // Pinned: never go further back than the revision recorded for this job.
    return skip(
      `the pinned target revision ${job.toRevision} of ${ref} no longer exists${target ? ` (the next older one is ${target.revision}; not going further back than what was chosen)` : ''}`,
    );
  }
  if (!target) {
    return skip(
      `${ref} has no earlier revision to roll back to (revision ${currentRevision} is the oldest)`,
    );
  }
  if (templatesEqual(target.template, workload.spec.template)) {
    return skip(`${ref}: current template already matches revision ${target.revision}`);
  }
  const from = current ?? {
    ...target,
    revision: currentRevision,
    template: workload.spec.template,
  };
  return {
    action: 'rollback',
    reason: `roll back ${ref} from revision ${currentRevision} to ${target.revision}`,
    from,
    to: target,
    fromRevision: currentRevision,
    toRevision: target.revision,
    images: imageDiff(workload.spec.template, target.template),
  };
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
