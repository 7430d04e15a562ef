// The Kubernetes executor: a pinned `kubectl rollout undo` (contract.md "Kubernetes rollback
// semantics"). execute() is one pipeline of named stages: prepare (snapshot → resolve → owners →
// patches, the same prepareRollback the dry run uses) → server dry run (only when owners are
// suspended first) → suspend owners → patch once → record on the job → Event → follow the rollout.
//
// Shutdown: when ctx.signal aborts, execute()/recover() throw an error named `AbortError`
// (before patching: nothing changed; after patching: `patched: true` is already durable on the
// job, so recover() after the restart follows the rollout instead of patching again).
// Around it: prepare-rollback.ts (the shared first half, and where a new kind plugs in),
// kube-plan.ts (dry runs, pinning), with-owners-suspended.ts (owners off around the patch),
// rollback-patcher.ts (the patch, exactly once, and its Event), kube-executor-context.ts (what
// they share), and the unavailable executor used when there is no cluster configuration.
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
import type { JobOwner } from '../../model/owner.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import { jobOwnerFrom } from '../../owners/plan-owner-action.js';
import { inPatchSuspensions, mergeSuspended } from '../../owners/suspended-owners.js';
import { followRollout } from './follow-rollout.js';
import { ownerJournal } from './owner-journal.js';
import {
  kubeExecutorContext,
  type KubeExecutorContext,
  type KubernetesExecutorOptions,
} from './kube-executor-context.js';
import { pinRevision, planRollback } from './kube-plan.js';
import { ourRollout, recordedRollout } from './our-rollout.js';
import {
  DryRunRejected,
  SnapshotError,
  prepareRollback,
  validateRollback,
  type PreparedRollback,
} from './prepare-rollback.js';
import type { Resolution } from './resolve-rollback.js';
import type { OurRollout } from './rollout-status.js';
import { applyOnce, emitEvent } from './rollback-patcher.js';
import { unavailableKubernetesExecutor } from './unavailable-kubernetes-executor.js';
import { fastTrackRollout } from './rollouts/fast-track-rollout.js';
import { landedRolloutRequest } from './rollouts/landed-rollout-request.js';
import { readRolloutSnapshot } from './rollouts/read-rollout-snapshot.js';
import { rolloutOurs } from './rollouts/rollout-ours.js';
import { rolloutVerb } from './rollouts/rollout-patch-for.js';
import { jobLogBindings } from '../../observability/job-log-bindings.js';
import { withOwnersSuspended, type OwnersAndPatch } from './with-owners-suspended.js';

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

  const follow = async (
    job: Job,
    ref: WorkloadRef,
    ctx: ExecutionContext,
    startedAt: number,
    ours: OurRollout,
  ) => {
    if (ref.kind === 'Rollout') {
      // A promoted Rollout's undo is fast-tracked before it is followed (idempotent by state,
      // so a job resumed after a restart asks again only if nothing was asked yet).
      const note = await fastTrackRollout(k, ref, ours, ctx, startedAt);
      if (note) ctx.progress({ event: 'note', message: note });
    }
    return followRollout({
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
        { ...jobLogBindings(job), outcome: result.outcome, reason: result.reason },
        'rollout finished',
      );
      return result;
    });
  };

  /**
   * The rollback, as named stages: prepare (the dry run's own pipeline) → server dry run →
   * suspend owners → patch once → record → Event → follow. The stages before the patch run
   * behind the one abort guard: a shutdown there throws AbortError and the job is handed back
   * with nothing changed. Once owners are suspended, a patch that never lands turns them back
   * on (withOwnersSuspended); after the patch, the job records it before anything else.
   */
  const execute = async (job: Job, ctx: ExecutionContext): Promise<ExecutionResult> => {
    const ref = job.target;
    if (!ref) return { outcome: 'failed', reason: 'job has no Kubernetes target' };
    const guard = abortGuard(ctx.signal);
    guard.check(BEFORE_PATCHING);
    if (job.patched) return followAgain(job, ref, ctx);

    // 1. Prepare: snapshot → resolve → owners → patches (shared with planRollback).
    let p: PreparedRollback;
    try {
      p = await guard.stage(BEFORE_PATCHING, () => prepareRollback(k, job, ref, ctx.signal));
    } catch (err) {
      if (err instanceof SnapshotError) return readFailure(ref, err);
      throw err;
    }
    const owner = p.owners ? jobOwnerFrom(p.owners) : undefined;
    if (p.step === 'skip')
      return p.owners
        ? { outcome: 'skipped', reason: p.reason, ...ownerFields(owner) }
        : skipped(job, p.res);

    // 2. When owners are suspended first, let the API server validate the exact patches before
    // changing anything. Without them the real PATCH is its own check (a rejected PATCH changes
    // nothing), so a dry run would only add a round trip before the rollback.
    try {
      if (p.owners.suspensions.some((s) => s.patch))
        await guard.stage(BEFORE_PATCHING, () => validateRollback(k, p, ctx.signal));
    } catch (err) {
      if (!(err instanceof DryRunRejected)) throw err;
      const what = err.patch === 'owner' ? 'suspending the owner' : 'the rollback patch';
      return {
        outcome: 'failed',
        reason: `the API server rejected ${what} (dry run): ${err.message}`,
        ...ownerFields(owner),
      };
    }

    // 3 and 4. Turn the owners off, then patch exactly once (owners back on if it never lands).
    const prior = job.owner?.suspended ?? [];
    let done: OwnersAndPatch;
    try {
      done = await withOwnersSuspended(
        k.owners,
        p.owners,
        ownerJournal(ctx, owner, prior),
        ctx.signal,
        () => applyOnce(k, job, ref, p, ctx.signal, p.owners.workloadAnnotations),
      );
    } catch (err) {
      guard.check('before the patch was confirmed', err);
      if (err instanceof KubeNotFoundError) return notFound(ref);
      return {
        outcome: 'failed',
        reason:
          err instanceof ForbiddenError
            ? `the API server rejected the rollback patch: ${describe(err)}`
            : `patching ${ref.kind} ${ref.namespace}/${ref.name} failed: ${describe(err)}`,
      };
    }
    if (done.step === 'not_suspended')
      return { outcome: 'failed', reason: done.reason, ...ownerFields(owner) };
    const { applied } = done;
    if (!applied.applied) return skipped(job, applied.res);

    // 5. Record the patch on the job (durable before anything else), 6. the Event, 7. follow.
    const actedAt = clock.now();
    const allSuspended = mergeSuspended(
      mergeSuspended(prior, done.suspended),
      inPatchSuspensions(p.owners, actedAt),
    );
    const fields: JobPatch = {
      patched: true,
      rollout:
        ref.kind === 'Rollout'
          ? rolloutOurs(k.controllerName, applied.res, applied.snap.workload, applied.patched)
          : ourRollout(k.controllerName, applied.patched, applied.snap.workload),
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
      message: `${ref.kind === 'Rollout' ? rolloutVerb(applied.res) : 'patched'} ${ref.kind} ${ref.namespace}/${ref.name}: revision ${applied.res.fromRevision} → ${applied.res.toRevision}${imagesText(applied.res.images)}`,
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

  /** Never patch twice: the patch of this job already landed; only the rollout is left. */
  const followAgain = async (
    job: Job,
    ref: WorkloadRef,
    ctx: ExecutionContext,
  ): Promise<ExecutionResult> => {
    ctx.progress({
      event: 'note',
      message: 'patch already applied for this job; following the rollout',
    });
    const ours = await recordedRollout(k, job, ref, ctx.signal);
    return follow(job, ref, ctx, job.actedAt ? Date.parse(job.actedAt) : clock.now(), ours);
  };

  /** recover(): the job's request landed before the restart; record it if the journal missed it, then follow. */
  const followLanded = async (
    job: Job,
    ref: WorkloadRef,
    ctx: ExecutionContext,
    fields: JobPatch,
    ours: OurRollout,
  ): Promise<ExecutionResult> => {
    if (!job.patched) await ctx.update(fields);
    ctx.progress({
      event: 'patch_found',
      message: 'patch was applied before the restart; following the rollout',
    });
    const startedAt = Date.parse(fields.actedAt ?? job.actedAt ?? '') || clock.now();
    const result = await follow(job, ref, ctx, startedAt, ours);
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
    ownerResumed: (owner) => k.owners.resumed(owner),
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
        return readFailure(ref, new SnapshotError(ref, err));
      }
      if (ref.kind === 'Rollout' && !job.patched) {
        // An abort leaves no record on the Rollout and a workloadRef undo leaves it on the
        // Deployment: the whole snapshot tells whether this job's request landed.
        let landed;
        try {
          const snap = await k.retry(
            () => readRolloutSnapshot(client, ref, workload, ctx.signal),
            ctx.signal,
          );
          landed = landedRolloutRequest(job, snap, k.controllerName);
        } catch (err) {
          if (ctx.signal.aborted) throw abortError('interrupted by shutdown');
          return readFailure(ref, new SnapshotError(ref, err));
        }
        if (!landed) return execute(job, ctx);
        return followLanded(job, ref, ctx, landed, landed.rollout ?? {});
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
        const ours = await recordedRollout(k, job, ref, ctx.signal, workload);
        return followLanded(job, ref, ctx, fields, ours);
      }
      // Not applied: execute() re-checks the pinned revision and skips if the workload moved on.
      return execute(job, ctx);
    },
  };
}

const BEFORE_PATCHING = 'before patching';

/**
 * The one abort guard: a shutdown (the job's signal) turns a stage's answer, or its failure,
 * into the AbortError that makes the runner hand the job back instead of recording an outcome.
 */
function abortGuard(signal: AbortSignal) {
  const check = (where: string, err?: unknown): void => {
    if (signal.aborted || (err as Error | undefined)?.name === 'AbortError')
      throw abortError(`interrupted by shutdown ${where}`);
  };
  return {
    check,
    /** A stage that changes nothing: stopped before, during or right after it. */
    async stage<T>(where: string, fn: () => Promise<T>): Promise<T> {
      check(where);
      let value: T;
      try {
        value = await fn();
      } catch (err) {
        if (signal.aborted) check(where);
        throw err;
      }
      check(where);
      return value;
    },
  };
}

function notFound(ref: WorkloadRef): ExecutionResult {
  return { outcome: 'skipped', reason: `${ref.kind} ${ref.namespace}/${ref.name} not found` };
}

function readFailure(ref: WorkloadRef, err: SnapshotError): ExecutionResult {
  if (err.cause instanceof KubeNotFoundError) return notFound(ref);
  return { outcome: 'failed', reason: err.message };
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
