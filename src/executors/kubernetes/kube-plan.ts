// The Kubernetes executor's side-effect-free answers: what a rollback would do (dry runs and
// /test), and which revision to pin when a job is accepted.
import {
  ForbiddenError,
  InvalidError,
  KubeNotFoundError,
  TransientError,
} from '../../kube/kube-errors.js';
import { forbiddenPermission } from '../../kube/forbidden-permission.js';
import type { JobPatch, Plan } from '../../model/executor.js';
import type { Job } from '../../model/job.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import { becameCurrent } from './became-current.js';
import type { KubeExecutorContext } from './kube-executor-context.js';
import type { Resolution } from './resolve-rollback.js';
import { dryRunSuspensions, planOwnerView, planOwners } from './owner-step.js';
import { dryRun, patchFor, recordFor } from './rollback-patcher.js';
import { onDeleteNote } from './rollout-status.js';
import { templateChanges } from './template-changes.js';
import { jobLogBindings } from '../../observability/job-log-bindings.js';

export async function planRollback(k: KubeExecutorContext, job: Job): Promise<Plan> {
  const ref = job.target;
  if (!ref) return { action: 'skip', reason: 'job has no Kubernetes target' };
  try {
    const snap = await k.snapshot(ref);
    const res = k.resolve(job, snap);
    if (res.action !== 'rollback') return skipPlan(res);
    const ownerPlan = await planOwners(k, ref, snap.workload);
    const owner = planOwnerView(ownerPlan);
    const base = {
      fromRevision: res.fromRevision,
      toRevision: res.toRevision,
      changes: {
        images: res.images,
        fields: templateChanges(snap.workload.spec.template, res.to.template),
      },
      ...(owner ? { owner } : {}),
    };
    if (ownerPlan.action === 'skip') return { action: 'skip', reason: ownerPlan.reason, ...base };
    const extra = ownerPlan.workloadAnnotations;
    const strategy =
      ref.kind === 'Deployment' ? undefined : snap.workload.spec.updateStrategy?.type;
    const reason =
      strategy && strategy !== 'RollingUpdate'
        ? `${res.reason} (${onDeleteNote(ref.kind, strategy)})`
        : res.reason;
    try {
      await dryRunSuspensions(k, ownerPlan);
    } catch (err) {
      const forbidden = forbiddenPermission(err);
      return {
        action: 'rollback',
        reason: `${reason}, but the API server rejected suspending the owner in a dry run: ${(err as Error).message}`,
        ...base,
        serverDryRun: false,
        ...(forbidden ? { forbidden } : {}),
      };
    }
    try {
      await dryRun(k, ref, patchFor(ref, snap, res, recordFor(k, job, res), extra));
    } catch (err) {
      if (
        err instanceof InvalidError ||
        err instanceof ForbiddenError ||
        !(err instanceof TransientError)
      ) {
        const forbidden = forbiddenPermission(err);
        return {
          action: 'rollback',
          reason: `${reason}, but the API server rejected the patch in a dry run: ${(err as Error).message}`,
          ...base,
          serverDryRun: false,
          ...(forbidden ? { forbidden } : {}),
        };
      }
      throw err;
    }
    return { action: 'rollback', reason, ...base, serverDryRun: true };
  } catch (err) {
    return planFailure(ref, err);
  }
}

/** The revision current now (the bad one) and the one it would go back to. Never throws. */
export async function pinRevision(k: KubeExecutorContext, job: Job): Promise<JobPatch> {
  const ref = job.target;
  if (!ref) return {};
  try {
    const snap = await k.snapshot(ref);
    const current = snap.history.current;
    const since = current ? becameCurrent(ref.kind, snap.workload, current) : undefined;
    if (since?.at === undefined || Date.parse(since.at) > Date.parse(job.alert.startsAt)) {
      k.log.warn(
        {
          ...jobLogBindings(job),
          revision: snap.history.currentRevision,
          becameCurrent: since?.at,
          evidence: since?.evidence,
          alertStartsAt: job.alert.startsAt,
        },
        'current revision may be newer than the alert; pinned anyway, execution will decide',
      );
    }
    const previous = snap.history.previous;
    const res = k.resolve({ ...job, fromRevision: snap.history.currentRevision }, snap);
    return {
      fromRevision: snap.history.currentRevision,
      ...(previous ? { toRevision: previous.revision } : {}),
      ...(res.action === 'rollback' ? { images: res.images } : {}),
    };
  } catch (err) {
    k.log.warn(
      { ...jobLogBindings(job), err: (err as Error).message },
      'could not pin the current revision',
    );
    return {};
  }
}

/** A failure reading the cluster as a plan answer. */
function planFailure(ref: WorkloadRef, err: unknown): Plan {
  if (err instanceof KubeNotFoundError) {
    return { action: 'skip', reason: `${ref.kind} ${ref.namespace}/${ref.name} not found` };
  }
  if (err instanceof TransientError) {
    return { action: 'unavailable', reason: `API server unreachable: ${err.message}` };
  }
  const forbidden = forbiddenPermission(err);
  return {
    action: 'unavailable',
    reason: (err as Error).message,
    ...(forbidden ? { forbidden } : {}),
  };
}

function skipPlan(res: Resolution): Plan {
  return {
    action: 'skip',
    reason: res.reason,
    ...(res.fromRevision !== undefined ? { fromRevision: res.fromRevision } : {}),
    ...(res.toRevision !== undefined ? { toRevision: res.toRevision } : {}),
  };
}
