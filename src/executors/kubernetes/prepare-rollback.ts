// The one rollback pipeline's first half, shared by the dry run (planRollback in kube-plan.ts)
// and the real run (execute in kubernetes-executor.ts), so the two cannot disagree:
//
//   snapshot → resolve → owners → patches → skip | ready
//
// then `validateRollback` lets the API server check the exact patches (server-side dry run).
// Nothing here changes the cluster.
//
// Extension point: a new kind (Argo Rollouts' Rollout, say) adds a resolver (how its revisions
// are read and which one the rollback goes back to: read-snapshot.ts and resolve-rollback.ts
// behind k.snapshot/k.resolve) and an action (the patch that brings the old revision back:
// patchFor in rollback-patcher.ts). It runs through this same pipeline and the same stages of
// execute(); neither the dry run nor execute() is written again.
import type { LastRollback } from '../../kube/last-rollback.js';
import type { Job } from '../../model/job.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import type { OwnerPlan } from '../../owners/plan-owner-action.js';
import type { KubeExecutorContext, RollbackResolution } from './kube-executor-context.js';
import type { Snapshot } from './read-snapshot.js';
import type { Resolution } from './resolve-rollback.js';
import { dryRun, patchFor, recordFor, type WorkloadPatch } from './rollback-patcher.js';

export type PreparedRollback =
  /** No rollback: the resolution says why, or the owners forbid it (`owners` then says who). */
  | { step: 'skip'; reason: string; res: Resolution; snap: Snapshot; owners?: OwnerPlan }
  | {
      step: 'ready';
      ref: WorkloadRef;
      snap: Snapshot;
      res: RollbackResolution;
      owners: OwnerPlan;
      /** The last-rollback record the patch writes on the workload. */
      record: LastRollback;
      patch: WorkloadPatch;
    };

export type ReadyRollback = Extract<PreparedRollback, { step: 'ready' }>;

/** The workload could not be read (its `cause` is the client's error). */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
  constructor(
    readonly ref: WorkloadRef,
    override readonly cause: unknown,
  ) {
    super(
      `could not read ${ref.kind} ${ref.namespace}/${ref.name}: ${(cause as Error).message ?? String(cause)}`,
    );
  }
}

/** The API server refused one of the patches in a dry run (the owner's or the workload's). */
export class DryRunRejected extends Error {
  override name = 'DryRunRejected';
  constructor(
    readonly patch: 'owner' | 'workload',
    override readonly cause: unknown,
  ) {
    super((cause as Error).message ?? String(cause));
  }
}

/**
 * Reads the workload and decides. Throws SnapshotError when the workload cannot be read; errors
 * reading its owners propagate as they are. A skip decided on the watch cache is decided again
 * on direct reads: a lagging cache may only ever cost time, never a rollback.
 */
export async function prepareRollback(
  k: KubeExecutorContext,
  job: Job,
  ref: WorkloadRef,
  signal?: AbortSignal,
  o?: { direct?: boolean },
): Promise<PreparedRollback> {
  const snap = await k.snapshot(ref, signal, o).catch((err: unknown) => {
    throw new SnapshotError(ref, err);
  });
  const again = () => prepareRollback(k, job, ref, signal, { direct: true });
  const res = k.resolve(job, snap);
  if (res.action !== 'rollback')
    return snap.cached ? again() : { step: 'skip', reason: res.reason, res, snap };
  // Who else manages the workload (contract.md "Workloads managed by GitOps or Helm"), decided only
  // once every pinned-revision check passed: a job skipped for another reason suspends nothing.
  const owners = await k.owners.plan(ref, snap.workload, signal);
  if (owners.action === 'skip')
    return snap.cached ? again() : { step: 'skip', reason: owners.reason, res, snap, owners };
  const record = recordFor(k, job, res);
  // Annotations that stop a GitOps owner (Flux) ride on the rollback patch itself.
  const patch = patchFor(ref, snap, res, record, owners.workloadAnnotations);
  return { step: 'ready', ref, snap, res, owners, record, patch };
}

/** Server-side dry run of the workload patch, then of the owners' suspensions. Throws DryRunRejected. */
export async function validateRollback(
  k: KubeExecutorContext,
  ready: ReadyRollback,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await dryRun(k, ready.ref, ready.patch, signal);
  } catch (err) {
    throw new DryRunRejected('workload', err);
  }
  try {
    await k.owners.dryRun(ready.owners, signal);
  } catch (err) {
    throw new DryRunRejected('owner', err);
  }
}
