// The one place that decides, from a snapshot of the workload and its history, whether a job
// rolls back and to what. plan(), execute() and recover() all call it, so a dry run can never
// disagree with a real run.
import type { ImageChange, Job } from '../../model/job.js';
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
  job: Pick<Job, 'fromRevision' | 'alert'>;
  optOutAnnotation: string;
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

  if (workload.metadata.annotations?.[input.optOutAnnotation] === 'true') {
    return skip(
      `${ref} opted out of automatic rollback (annotation ${input.optOutAnnotation}="true")`,
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
  const created = current?.createdAt ? Date.parse(current.createdAt) : NaN;
  if (Number.isFinite(alertStart) && Number.isFinite(created) && created > alertStart) {
    return skip(
      `revision ${currentRevision} was created at ${current?.createdAt ?? ''}, after the alert started at ${job.alert.startsAt}: it did not cause this alert`,
    );
  }
  const target = history.previous;
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
