// The Kubernetes executor's side-effect-free answers: what a rollback would do (dry runs and
// /test: the same prepareRollback as execute(), stopped before anything is written), and which
// revision to pin when a job is accepted.
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
import type { KubeExecutorContext } from './kube-executor-context.js';
import { planOwnerView } from '../../owners/plan-owner-action.js';
import {
  DryRunRejected,
  SnapshotError,
  prepareRollback,
  validateRollback,
} from './prepare-rollback.js';
import type { Resolution } from './resolve-rollback.js';
import { onDeleteNote } from './rollout-status.js';
import { stuckPlanNote } from './stuck-plan-note.js';
import { templateChanges } from './template-changes.js';
import { defined } from '../../model/defined.js';
import { jobLogBindings } from '../../observability/job-log-bindings.js';

export async function planRollback(k: KubeExecutorContext, job: Job): Promise<Plan> {
  const ref = job.target;
  if (!ref) return { action: 'skip', reason: 'job has no Kubernetes target' };
  try {
    const p = await prepareRollback(k, job, ref);
    if (p.res.action !== 'rollback') return skipPlan(p.res);
    const owner = p.owners ? planOwnerView(p.owners) : undefined;
    const base = {
      fromRevision: p.res.fromRevision,
      toRevision: p.res.toRevision,
      changes: {
        images: p.res.images,
        // A Rollout's own template is undefaulted; its ReplicaSet's copy compares like for like.
        fields: templateChanges(
          ref.kind === 'Rollout' ? p.res.from.template : p.snap.workload.spec.template,
          p.res.to.template,
        ),
      },
      ...defined({ owner }),
    };
    if (p.step === 'skip') return { action: 'skip', reason: p.reason, ...base };
    const strategy =
      ref.kind === 'Deployment' ? undefined : p.snap.workload.spec.updateStrategy?.type;
    const reason =
      strategy && strategy !== 'RollingUpdate'
        ? `${p.res.reason} (${onDeleteNote(ref.kind, strategy)})`
        : `${p.res.reason}${await stuckPlanNote(k, ref, p.snap, p.res)}`;
    try {
      await validateRollback(k, p);
    } catch (err) {
      if (!(err instanceof DryRunRejected)) throw err;
      // A workload patch that failed for a passing reason is no verdict: the cluster is unavailable.
      const cause = err.cause;
      const forbidden = forbiddenPermission(cause);
      if (
        err.patch === 'workload' &&
        cause instanceof TransientError &&
        !(cause instanceof InvalidError || cause instanceof ForbiddenError)
      )
        throw cause;
      const what = err.patch === 'owner' ? 'suspending the owner' : 'the patch';
      return {
        action: 'rollback',
        reason: `${reason}, but the API server rejected ${what} in a dry run: ${err.message}`,
        ...base,
        serverDryRun: false,
        ...(forbidden ? { forbidden } : {}),
      };
    }
    return { action: 'rollback', reason, ...base, serverDryRun: true };
  } catch (err) {
    return planFailure(ref, err instanceof SnapshotError ? err.cause : err);
  }
}

/** The revision current now (the bad one) and the one it would go back to. Never throws. */
export async function pinRevision(k: KubeExecutorContext, job: Job): Promise<JobPatch> {
  const ref = job.target;
  if (!ref) return {};
  try {
    // Direct: a pin from a lagging cache would make the job skip later ("moved on").
    const snap = await k.snapshot(ref, undefined, { direct: true });
    if (snap.history.inFlux !== undefined) {
      // Nothing to pin: the revision the alert is about is not known; execution decides.
      k.log.warn(
        { ...jobLogBindings(job), inFlux: snap.history.inFlux },
        'workload in flux; not pinned',
      );
      return {};
    }
    const res = k.resolve({ ...job, fromRevision: snap.history.currentRevision }, snap);
    if (res.action !== 'rollback') {
      k.log.warn(
        { ...jobLogBindings(job), revision: snap.history.currentRevision, reason: res.reason },
        'the job would be skipped now; pinned anyway, execution will decide',
      );
    }
    return {
      fromRevision: snap.history.currentRevision,
      ...defined({ toRevision: res.toRevision }),
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
    ...defined({ fromRevision: res.fromRevision, toRevision: res.toRevision }),
  };
}
