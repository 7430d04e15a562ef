// The Kubernetes executor: a pinned `kubectl rollout undo` (SPEC "Kubernetes rollback
// semantics"). plan → (only when owners are suspended first: dry-run patches) → patch once →
// record on the job → Event → follow rollout.
//
// Shutdown: when ctx.signal aborts, execute()/recover() throw an error named `AbortError`
// (before patching: nothing changed; after patching: `patched: true` is already durable on the
// job, so recover() after the restart follows the rollout instead of patching again).
// Around it: kube-plan.ts (dry runs, pinning), rollback-patcher.ts (the patch, exactly once, and
// its Event), kube-executor-context.ts (what they share), and the unavailable executor used
// when there is no cluster configuration.
import { abortError } from '../../kube/abort-error.js';
import type { KubeAccess } from '../../kube/connect-kube.js';
import type { KubeClient } from '../../kube/kube-client.js';
import { ForbiddenError, KubeApiError, KubeNotFoundError } from '../../kube/kube-errors.js';
import { parseLastRollback } from '../../kube/last-rollback.js';
import type {
  Availability,
  ExecutionContext,
  ExecutionResult,
  Executor,
  JobPatch,
} from '../../model/executor.js';
import type { Job } from '../../model/job.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import type { JobOwner, SuspendedOwner } from '../../model/owner.js';
import { refText } from '../../owners/owner-objects.js';
import { jobOwnerFrom } from '../../owners/plan-owner-action.js';
import { followRollout } from './follow-rollout.js';
import {
  kubeExecutorContext,
  type KubeExecutorContext,
  type KubernetesExecutorOptions,
} from './kube-executor-context.js';
import { pinRevision, planRollback } from './kube-plan.js';
import { ourRollout, recordedRollout } from './our-rollout.js';
import {
  OwnerSuspendError,
  applySuspensions,
  dryRunSuspensions,
  inPatchSuspensions,
  mergeSuspended,
  ownerResumed,
  planOwners,
  restoreSuspensions,
} from './owner-step.js';
import type { Snapshot } from './read-snapshot.js';
import type { Resolution } from './resolve-rollback.js';
import type { OurRollout } from './rollout-status.js';
import {
  applyOnce,
  dryRun,
  emitEvent,
  patchFor,
  recordFor,
  type Applied,
} from './rollback-patcher.js';
import { unavailableKubernetesExecutor } from './unavailable-kubernetes-executor.js';

export type { KubernetesExecutorOptions } from './kube-executor-context.js';

/**
 * Constructing never throws: without a usable cluster configuration this is the unavailable
 * executor, which says why.
 */
export function createKubernetesExecutor(
  kube: KubeAccess,
  options: KubernetesExecutorOptions,
): Executor {
  if ('reason' in kube) return unavailableKubernetesExecutor(kube.reason);
  return kubernetesExecutor(kube.client, options);
}

/** The executor over a client that exists. */
export function kubernetesExecutor(
  client: KubeClient,
  options: KubernetesExecutorOptions,
): Executor {
  const k: KubeExecutorContext = kubeExecutorContext(client, options);
  const { clock, log } = k;
  const availabilityTtlMs = options.availabilityTtlMs ?? 10_000;
  let cachedAvailability: { at: number; value: Availability } | undefined;

  const follow = (
    job: Job,
    ref: WorkloadRef,
    ctx: ExecutionContext,
    startedAt: number,
    ours: OurRollout,
  ) =>
    followRollout({
      client,
      ref,
      ctx,
      startedAt,
      ours,
      pollIntervalMs: k.pollIntervalMs,
      clock,
      sleep: k.sleep,
      deleteStuckPods: options.deleteStuckPods === true,
    }).then((result) => {
      log.info(
        { jobId: job.id, outcome: result.outcome, reason: result.reason },
        'rollout finished',
      );
      return result;
    });

  const execute = async (job: Job, ctx: ExecutionContext): Promise<ExecutionResult> => {
    const ref = job.target;
    if (!ref) return { outcome: 'failed', reason: 'job has no Kubernetes target' };
    if (ctx.signal.aborted) throw abortError('interrupted by shutdown before patching');
    if (job.patched) {
      // Never patch twice: the patch of this job already landed; only the rollout is left.
      ctx.progress({
        event: 'note',
        message: 'patch already applied for this job; following the rollout',
      });
      const ours = await recordedRollout(k, job, ref, ctx.signal);
      return follow(job, ref, ctx, job.actedAt ? Date.parse(job.actedAt) : clock.now(), ours);
    }

    let snap: Snapshot;
    try {
      snap = await k.snapshot(ref, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw abortError('interrupted by shutdown before patching');
      if (err instanceof KubeNotFoundError) {
        return { outcome: 'skipped', reason: `${ref.kind} ${ref.namespace}/${ref.name} not found` };
      }
      return {
        outcome: 'failed',
        reason: `could not read ${ref.kind} ${ref.namespace}/${ref.name}: ${(err as Error).message}`,
      };
    }
    const res = k.resolve(job, snap);
    if (res.action !== 'rollback') return skipped(job, res);

    // Who else manages the workload (SPEC "Workloads managed by GitOps or Helm"), decided only
    // once every pinned-revision check passed: a job skipped for another reason suspends nothing.
    const ownerPlan = await planOwners(k, ref, snap.workload, ctx.signal);
    if (ctx.signal.aborted) throw abortError('interrupted by shutdown before patching');
    const prior = job.owner?.suspended ?? [];
    const owner = jobOwnerFrom(ownerPlan);
    if (ownerPlan.action === 'skip')
      return { outcome: 'skipped', reason: ownerPlan.reason, ...ownerFields(owner) };

    // When owners are to be suspended first, let the API server validate the exact patches
    // before changing anything. Without them the real PATCH is its own check: a rejected PATCH
    // changes nothing, so a dry run would only add a round trip before the rollback.
    const record = recordFor(k, job, res);
    const extra = ownerPlan.workloadAnnotations;
    try {
      if (ownerPlan.suspensions.some((s) => s.patch)) {
        await dryRun(k, ref, patchFor(ref, snap, res, record, extra), ctx.signal);
        await dryRunSuspensions(k, ownerPlan, ctx.signal);
      }
    } catch (err) {
      if (ctx.signal.aborted) throw abortError('interrupted by shutdown before patching');
      return {
        outcome: 'failed',
        reason:
          err instanceof OwnerSuspendError
            ? `the API server rejected suspending the owner (dry run): ${err.message}`
            : `the API server rejected the rollback patch (dry run): ${(err as Error).message}`,
        ...ownerFields(owner),
      };
    }

    // Right before the patch: turn the owners off. A failure to suspend means no patch.
    let suspendedNow: SuspendedOwner[] = [];
    try {
      suspendedNow = await applySuspensions(k, ownerPlan, ctx.signal);
    } catch (err) {
      return { outcome: 'failed', reason: (err as Error).message, ...ownerFields(owner) };
    }
    if (owner && suspendedNow.length) {
      await ctx.update({
        owner: { ...owner, suspended: mergeSuspended(prior, suspendedNow) },
      });
      ctx.progress({
        event: 'owner_suspended',
        message: suspendedNow.map((o) => `${o.change} on ${refText(o.object)}`).join('; '),
        data: { objects: suspendedNow.map((o) => refText(o.object)) },
      });
    }
    const undo = () =>
      restoreSuspensions(
        k,
        ownerPlan.suspensions.filter((s) => s.patch),
      );
    const restoreNote = async (): Promise<void> => {
      if (!suspendedNow.length) return;
      const restored = await undo();
      await ctx.update(owner ? { owner: { ...owner, action: 'skipped', suspended: prior } } : {});
      ctx.progress({
        event: 'owner_restored',
        message: `no rollback patch was applied: turned ${restored.join(', ') || 'nothing'} back on`,
      });
    };

    let applied: Applied;
    try {
      applied = await applyOnce(k, job, ref, { snap, res }, ctx.signal, extra);
    } catch (err) {
      if (ctx.signal.aborted || (err as Error).name === 'AbortError') {
        throw abortError('interrupted by shutdown before the patch was confirmed');
      }
      await restoreNote();
      if (err instanceof KubeNotFoundError) {
        return { outcome: 'skipped', reason: `${ref.kind} ${ref.namespace}/${ref.name} not found` };
      }
      return {
        outcome: 'failed',
        reason:
          err instanceof ForbiddenError
            ? `the API server rejected the rollback patch: ${describe(err)}`
            : `patching ${ref.kind} ${ref.namespace}/${ref.name} failed: ${describe(err)}`,
      };
    }
    if (!applied.applied) {
      await restoreNote();
      return skipped(job, applied.res);
    }

    const actedAt = clock.now();
    const allSuspended = mergeSuspended(
      mergeSuspended(prior, suspendedNow),
      inPatchSuspensions(ownerPlan, actedAt),
    );
    const fields: JobPatch = {
      patched: true,
      rollout: ourRollout(k.controllerName, applied.patched, applied.snap.workload),
      actedAt: new Date(actedAt).toISOString(),
      fromRevision: applied.res.fromRevision,
      toRevision: applied.res.toRevision,
      images: applied.res.images,
      ...(owner
        ? {
            owner: {
              ...owner,
              ...(allSuspended.length
                ? { action: 'suspended' as const, suspended: allSuspended }
                : {}),
            },
          }
        : {}),
    };
    await ctx.update(fields);
    ctx.progress({
      event: 'patched',
      message: `patched ${ref.kind} ${ref.namespace}/${ref.name}: revision ${applied.res.fromRevision} → ${applied.res.toRevision}${imagesText(applied.res.images)}`,
      data: {
        fromRevision: applied.res.fromRevision,
        toRevision: applied.res.toRevision,
        images: applied.res.images,
      },
    });
    await emitEvent(k, ref, applied.snap, applied.record, ctx);
    const result = await follow(job, ref, ctx, actedAt, fields.rollout ?? {});
    return { ...result, fields };
  };

  return {
    name: 'kubernetes',
    // execute() resolves from the workload it reads and records the revisions it acted on.
    pinsOnExecute: true,

    async availability() {
      const now = clock.now();
      if (cachedAvailability && now - cachedAvailability.at < availabilityTtlMs) {
        return cachedAvailability.value;
      }
      let value: Availability;
      try {
        await client.version(Math.min(k.requestTimeoutMs, 3000));
        value = { available: true };
      } catch (err) {
        const reason =
          err instanceof ForbiddenError
            ? `API server refused the credentials: ${err.message}`
            : `API server unreachable: ${(err as Error).message}`;
        value = { available: false, reason };
      }
      cachedAvailability = { at: now, value };
      return value;
    },

    pin: (job) => pinRevision(k, job),
    ownerResumed: (owner) => ownerResumed(k, owner),
    plan: (job) => planRollback(k, job),

    execute,

    async recover(job, ctx) {
      const ref = job.target;
      if (!ref) return { outcome: 'failed', reason: 'job has no Kubernetes target' };
      let workload;
      try {
        workload = await k.retry(() => client.readWorkload(ref, ctx.signal), ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw abortError('interrupted by shutdown');
        if (err instanceof KubeNotFoundError) {
          return {
            outcome: 'skipped',
            reason: `${ref.kind} ${ref.namespace}/${ref.name} not found`,
          };
        }
        return {
          outcome: 'failed',
          reason: `could not read ${ref.kind} ${ref.namespace}/${ref.name}: ${(err as Error).message}`,
        };
      }
      const last = parseLastRollback(workload.metadata.annotations);
      if (last?.jobId === job.id || job.patched) {
        // The patch landed before the restart: record it if the journal missed it, then follow.
        const fields: JobPatch =
          last?.jobId === job.id
            ? {
                patched: true,
                actedAt: job.actedAt ?? last.at,
                fromRevision: last.fromRevision,
                toRevision: last.toRevision,
              }
            : { patched: true };
        if (!job.patched) await ctx.update(fields);
        ctx.progress({
          event: 'recovered',
          message: 'patch was applied before the restart; following the rollout',
        });
        const startedAt = Date.parse(fields.actedAt ?? job.actedAt ?? '') || clock.now();
        const ours = await recordedRollout(k, job, ref, ctx.signal, workload);
        const result = await follow(job, ref, ctx, startedAt, ours);
        return { ...result, fields };
      }
      // Not applied: execute() re-checks the pinned revision and skips if the workload moved on.
      return execute(job, ctx);
    },
  };
}

function ownerFields(owner: JobOwner | undefined): { fields?: JobPatch } {
  return owner ? { fields: { owner } } : {};
}

/** A skip as an outcome; revisions are filled in only when the job has none pinned. */
function skipped(job: Job, res: Resolution): ExecutionResult {
  const fields: JobPatch = {};
  if (res.action === 'skip' && job.fromRevision === undefined) {
    if (res.fromRevision !== undefined) fields.fromRevision = res.fromRevision;
    if (res.toRevision !== undefined) fields.toRevision = res.toRevision;
  }
  return { outcome: 'skipped', reason: res.reason, fields };
}

function imagesText(
  images: Array<{ container: string; from: string | null; to: string | null }>,
): string {
  if (!images.length) return '';
  return ` (${images.map((i) => `${i.container}: ${i.from ?? '-'} → ${i.to ?? '-'}`).join(', ')})`;
}

function describe(err: unknown): string {
  return err instanceof KubeApiError ? err.message : String((err as Error).message ?? err);
}
