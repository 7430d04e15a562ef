// Building, validating and applying the kubectl-equivalent rollback patch exactly once, and the
// Event that announces it.
import { abortError } from '../../kube/abort-error.js';
import type { PatchType } from '../../kube/kube-client.js';
import {
  isPatchNotApplicable,
  KubeConflictError,
  type KubeApiError,
} from '../../kube/kube-errors.js';
import type { Workload } from '../../kube/kube-types.js';
import { parseLastRollback, type LastRollback } from '../../kube/last-rollback.js';
import type { ExecutionContext } from '../../model/executor.js';
import type { Job } from '../../model/job.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import { controllerRevisionPatch } from './controller-revision-patch.js';
import { deploymentRollbackPatch } from './deployment-rollback-patch.js';
import type { KubeExecutorContext, RollbackResolution } from './kube-executor-context.js';
import { readSnapshot, type Snapshot } from './read-snapshot.js';
import type { Resolution } from './resolve-rollback.js';
import { rollbackEvent } from './rollback-event.js';
import { rolloutApplied, rolloutPatchFor } from './rollouts/rollout-patch-for.js';
import { StaleCacheError } from './stale-cache-error.js';

/** A patch and where it goes: the workload, another object (a workloadRef), or its status. */
export interface WorkloadPatch {
  body: unknown;
  type: PatchType;
  /** Default: the job's target. */
  target?: WorkloadRef;
  subresource?: 'status';
}
import { defined } from '../../model/defined.js';

export type Applied =
  | {
      applied: true;
      snap: Snapshot;
      res: RollbackResolution;
      record: LastRollback;
      /** The object as the API server answered our patch (or found it carrying our record). */
      patched: Workload;
    }
  | { applied: false; reason: string; res: Resolution };

export function recordFor(k: KubeExecutorContext, job: Job, res: RollbackResolution): LastRollback {
  return {
    jobId: job.id,
    alert: job.alert.alertname,
    trigger: job.trigger,
    fromRevision: res.fromRevision,
    toRevision: res.toRevision,
    toName: res.to.name,
    at: new Date(k.clock.now()).toISOString(),
    fingerprint: job.alert.fingerprint,
    startsAt: job.alert.startsAt,
  };
}

/**
 * The kubectl-equivalent patch plus a precondition on the resourceVersion that was read: a
 * request that timed out on our side but reaches the API server after a retry (or after a
 * deploy) then fails instead of applying a second time.
 */
export function patchFor(
  ref: WorkloadRef,
  snap: Snapshot,
  res: RollbackResolution,
  record: LastRollback,
  extraAnnotations: Record<string, string> = {},
): WorkloadPatch {
  if (ref.kind === 'Rollout') return rolloutPatchFor(ref, snap, res, record, extraAnnotations);
  const resourceVersion = snap.workload.metadata.resourceVersion;
  if (ref.kind === 'Deployment') {
    const ops = deploymentRollbackPatch(
      snap.workload,
      {
        template: res.to.template,
        ...(res.to.annotations ? { annotations: res.to.annotations } : {}),
      },
      record,
    ).map((op) =>
      // Annotations that stop a GitOps owner (Flux) ride on the same patch: no window between.
      op.path === '/metadata/annotations'
        ? { ...op, value: { ...(op.value as object), ...extraAnnotations } }
        : op,
    );
    const guard = resourceVersion
      ? [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersion }]
      : [];
    return { type: 'json', body: [...guard, ...ops] };
  }
  const body = controllerRevisionPatch(res.to.data ?? {}, record);
  const metadata = body['metadata'] as { annotations?: Record<string, string> };
  metadata.annotations = { ...metadata.annotations, ...extraAnnotations };
  if (resourceVersion) body['metadata'] = { ...(body['metadata'] as object), resourceVersion };
  return { type: 'strategic', body };
}

export async function dryRun(
  k: KubeExecutorContext,
  ref: WorkloadRef,
  patch: WorkloadPatch,
  signal?: AbortSignal,
): Promise<void> {
  await k.retry(() => send(k, ref, patch, true, signal), signal);
}

/** The one place a rollback patch leaves: to its target, the status subresource or the object. */
function send(
  k: KubeExecutorContext,
  ref: WorkloadRef,
  patch: WorkloadPatch,
  dryRun: boolean,
  signal?: AbortSignal,
): Promise<Workload> {
  const target = patch.target ?? ref;
  const o = { dryRun, fieldManager: k.controllerName, ...defined({ signal }) };
  return patch.subresource === 'status'
    ? k.client.patchWorkloadStatus(target, patch.body, o)
    : k.client.patchWorkload(target, patch.body, patch.type, o);
}

/**
 * Patch exactly once. Before every retry the workload is re-read: if our record is already on
 * it (a timed-out call that did land), the patch is done; on 409 the patch is rebuilt from the
 * fresh object, and if the workload no longer qualifies the job is skipped.
 */
export async function applyOnce(
  k: KubeExecutorContext,
  job: Job,
  ref: WorkloadRef,
  first: { snap: Snapshot; res: RollbackResolution },
  signal: AbortSignal,
  extraAnnotations: Record<string, string> = {},
): Promise<Applied> {
  let { snap, res } = first;
  let record = recordFor(k, job, res);
  return k.retry(async (attempt) => {
    if (signal.aborted) throw abortError('interrupted by shutdown before patching');
    if (attempt > 1) {
      if (first.snap.cached) throw new StaleCacheError();
      snap = await readSnapshot(k.client, ref, signal);
      if (
        ref.kind === 'Rollout'
          ? rolloutApplied(job, snap, res)
          : parseLastRollback(snap.workload.metadata.annotations)?.jobId === job.id
      ) {
        return { applied: true as const, snap, res, record, patched: snap.workload };
      }
      const again = k.resolve(job, snap);
      if (again.action !== 'rollback')
        return { applied: false as const, reason: again.reason, res: again };
      if (again.toRevision !== res.toRevision || again.to.name !== res.to.name) {
        record = recordFor(k, job, again);
      }
      res = again;
    }
    const patch = patchFor(ref, snap, res, record, extraAnnotations);
    let patched: Workload;
    try {
      patched = await send(k, ref, patch, false, signal);
    } catch (err) {
      // A failed resourceVersion precondition (409, or a JSON patch the server could not apply,
      // told apart from a validation error by the Status causes) means the workload changed
      // since we read it, maybe by our own earlier, late request: re-read and decide again.
      if (isPatchNotApplicable(err)) {
        throw new KubeConflictError((err as KubeApiError).message, (err as KubeApiError).status);
      }
      throw err;
    }
    return { applied: true as const, snap, res, record, patched };
  }, signal);
}

export async function emitEvent(
  k: KubeExecutorContext,
  ref: WorkloadRef,
  snap: Snapshot,
  record: LastRollback,
  ctx: ExecutionContext,
): Promise<void> {
  try {
    await k.retry(
      () =>
        k.client.createEvent(
          rollbackEvent({
            ref,
            workload: snap.workload,
            record,
            controllerName: k.controllerName,
            instance: k.instance,
            now: k.clock.now(),
          }),
          ctx.signal,
        ),
      ctx.signal,
    );
  } catch (err) {
    // The rollback happened; a missing Event is worth a note, not a failed job.
    ctx.progress({
      event: 'note',
      message: `could not create the Kubernetes Event: ${(err as Error).message}`,
    });
  }
}
