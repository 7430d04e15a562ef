// The Kubernetes executor: a pinned `kubectl rollout undo` (SPEC "Kubernetes rollback
// semantics"). plan → dry-run patch → patch once → record on the job → Event → follow rollout.
//
// Shutdown: when ctx.signal aborts, execute()/recover() throw an error named `AbortError`
// (before patching: nothing changed; after patching: `patched: true` is already durable on the
// job, so recover() after the restart follows the rollout instead of patching again).
import type { KubeConfig } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import type { Job } from '../../model/job.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import type {
  Availability,
  ExecutionContext,
  ExecutionResult,
  Executor,
  JobPatch,
  Plan,
} from '../../model/executor.js';
import { abortError, abortableSleep } from '../../kube/abort-error.js';
import { controllerRevisionPatch } from './controller-revision-patch.js';
import { deploymentRollbackPatch } from './deployment-rollback-patch.js';
import { followRollout } from './follow-rollout.js';
import { createKubeClient, type KubeClient, type PatchType } from '../../kube/kube-client.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  KubeApiError,
  TransientError,
} from '../../kube/kube-errors.js';
import { parseLastRollback, type LastRollback } from '../../kube/last-rollback.js';
import { loadKubeConfig } from '../../kube/load-kube-config.js';
import { readSnapshot, type Snapshot } from './read-snapshot.js';
import { resolveRollback, type Resolution } from './resolve-rollback.js';
import { rollbackEvent } from './rollback-event.js';
import { withRetry } from '../../kube/with-retry.js';

export interface KubernetesExecutorOptions {
  /** Default: in-cluster service account, else KUBECONFIG / ~/.kube/config. */
  kubeConfig?: KubeConfig;
  /** Environment to find KUBECONFIG / in-cluster settings in (default process.env). */
  env?: NodeJS.ProcessEnv;
  optOutAnnotation: string;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  retry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  clock?: { now(): number };
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger?: Logger;
  controllerName?: string;
  /** How long an availability answer is reused. */
  availabilityTtlMs?: number;
}

type RollbackResolution = Extract<Resolution, { action: 'rollback' }>;

export function createKubernetesExecutor(options: KubernetesExecutorOptions): Executor {
  const clock = options.clock ?? { now: () => Date.now() };
  const sleep = options.sleep ?? abortableSleep;
  const log = options.logger ?? pino({ enabled: false });
  const controllerName = options.controllerName ?? 'rollback-controller';
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const retryPolicy = options.retry ?? { attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 };
  const availabilityTtlMs = options.availabilityTtlMs ?? 10_000;
  const instance = hostname();

  // Constructing never throws: without a usable config the executor reports itself unavailable.
  const loaded = options.kubeConfig
    ? { kubeConfig: options.kubeConfig }
    : loadKubeConfig(options.env ? { env: options.env } : {});
  const client: KubeClient | undefined =
    'kubeConfig' in loaded ? createKubeClient(loaded.kubeConfig, { requestTimeoutMs }) : undefined;
  const noClientReason = 'reason' in loaded ? loaded.reason : '';

  let cachedAvailability: { at: number; value: Availability } | undefined;

  const retry = <T>(fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> =>
    withRetry(fn, {
      ...retryPolicy,
      sleep,
      ...(signal ? { signal } : {}),
      onRetry: (err, attempt, delayMs) =>
        log.warn({ err: err.message, attempt, delayMs }, 'Kubernetes call failed, retrying'),
    });

  const snapshot = (ref: WorkloadRef, signal?: AbortSignal): Promise<Snapshot> =>
    retry(() => readSnapshot(client as KubeClient, ref, signal), signal);

  const resolve = (job: Job, snap: Snapshot): Resolution =>
    resolveRollback({
      kind: (job.target as WorkloadRef).kind,
      workload: snap.workload,
      history: snap.history,
      job,
      optOutAnnotation: options.optOutAnnotation,
    });

  const recordFor = (job: Job, res: RollbackResolution): LastRollback => ({
    jobId: job.id,
    alert: job.alert.alertname,
    trigger: job.trigger,
    fromRevision: res.fromRevision,
    toRevision: res.toRevision,
    toName: res.to.name,
    at: new Date(clock.now()).toISOString(),
    fingerprint: job.alert.fingerprint,
    startsAt: job.alert.startsAt,
  });

  /**
   * The kubectl-equivalent patch plus a precondition on the resourceVersion that was read: a
   * request that timed out on our side but reaches the API server after a retry (or after a
   * deploy) then fails instead of applying a second time.
   */
  const patchFor = (
    ref: WorkloadRef,
    snap: Snapshot,
    res: RollbackResolution,
    record: LastRollback,
  ): { body: unknown; type: PatchType } => {
    const resourceVersion = snap.workload.metadata.resourceVersion;
    if (ref.kind === 'Deployment') {
      const ops = deploymentRollbackPatch(
        snap.workload,
        {
          template: res.to.template,
          ...(res.to.annotations ? { annotations: res.to.annotations } : {}),
        },
        record,
      );
      const guard = resourceVersion
        ? [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersion }]
        : [];
      return { type: 'json', body: [...guard, ...ops] };
    }
    const body = controllerRevisionPatch(res.to.data ?? {}, record);
    if (resourceVersion) body['metadata'] = { ...(body['metadata'] as object), resourceVersion };
    return { type: 'strategic', body };
  };

  const dryRun = async (
    ref: WorkloadRef,
    patch: { body: unknown; type: PatchType },
    signal?: AbortSignal,
  ): Promise<void> => {
    await retry(
      () =>
        (client as KubeClient).patchWorkload(ref, patch.body, patch.type, {
          dryRun: true,
          fieldManager: controllerName,
          ...(signal ? { signal } : {}),
        }),
      signal,
    );
  };

  /** A failure reading the cluster as a plan answer. */
  const planFailure = (ref: WorkloadRef, err: unknown): Plan => {
    if (err instanceof NotFoundError) {
      return { action: 'skip', reason: `${ref.kind} ${ref.namespace}/${ref.name} not found` };
    }
    if (err instanceof TransientError) {
      return { action: 'unavailable', reason: `API server unreachable: ${err.message}` };
    }
    return { action: 'unavailable', reason: (err as Error).message };
  };

  /**
   * Patch exactly once. Before every retry the workload is re-read: if our record is already on
   * it (a timed-out call that did land), the patch is done; on 409 the patch is rebuilt from the
   * fresh object, and if the workload no longer qualifies the job is skipped.
   */
  const applyOnce = async (
    job: Job,
    ref: WorkloadRef,
    first: { snap: Snapshot; res: RollbackResolution },
    signal: AbortSignal,
  ): Promise<
    | { applied: true; snap: Snapshot; res: RollbackResolution; record: LastRollback }
    | { applied: false; reason: string; res: Resolution }
  > => {
    let { snap, res } = first;
    let record = recordFor(job, res);
    return retry(async (attempt) => {
      if (signal.aborted) throw abortError('interrupted by shutdown before patching');
      if (attempt > 1) {
        snap = await readSnapshot(client as KubeClient, ref, signal);
        if (parseLastRollback(snap.workload.metadata.annotations)?.jobId === job.id) {
          return { applied: true as const, snap, res, record };
        }
        const again = resolve(job, snap);
        if (again.action !== 'rollback')
          return { applied: false as const, reason: again.reason, res: again };
        if (again.toRevision !== res.toRevision || again.to.name !== res.to.name) {
          record = recordFor(job, again);
        }
        res = again;
      }
      const patch = patchFor(ref, snap, res, record);
      try {
        await (client as KubeClient).patchWorkload(ref, patch.body, patch.type, {
          dryRun: false,
          fieldManager: controllerName,
          signal,
        });
      } catch (err) {
        // A failed resourceVersion precondition (409, or 422 from the JSON patch test op) means
        // the workload changed since we read it, maybe by our own earlier, late request: re-read
        // and decide again rather than fail.
        if (err instanceof InvalidError && /resourceVersion|test/i.test(err.message)) {
          throw new ConflictError(err.message, err.status);
        }
        throw err;
      }
      return { applied: true as const, snap, res, record };
    }, signal);
  };

  const follow = (job: Job, ref: WorkloadRef, ctx: ExecutionContext, startedAt: number) =>
    followRollout({
      client: client as KubeClient,
      ref,
      ctx,
      startedAt,
      pollIntervalMs,
      clock,
      sleep,
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
    if (!client)
      return { outcome: 'failed', reason: `Kubernetes executor unavailable: ${noClientReason}` };
    if (ctx.signal.aborted) throw abortError('interrupted by shutdown before patching');
    if (job.patched) {
      // Never patch twice: the patch of this job already landed; only the rollout is left.
      ctx.progress({
        event: 'note',
        message: 'patch already applied for this job; following the rollout',
      });
      return follow(job, ref, ctx, job.actedAt ? Date.parse(job.actedAt) : clock.now());
    }

    let snap: Snapshot;
    try {
      snap = await snapshot(ref, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw abortError('interrupted by shutdown before patching');
      if (err instanceof NotFoundError) {
        return { outcome: 'skipped', reason: `${ref.kind} ${ref.namespace}/${ref.name} not found` };
      }
      return {
        outcome: 'failed',
        reason: `could not read ${ref.kind} ${ref.namespace}/${ref.name}: ${(err as Error).message}`,
      };
    }
    const res = resolve(job, snap);
    if (res.action !== 'rollback') return skipped(job, res);

    // Let the API server validate the exact patch before changing anything.
    const record = recordFor(job, res);
    try {
      await dryRun(ref, patchFor(ref, snap, res, record), ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw abortError('interrupted by shutdown before patching');
      return {
        outcome: 'failed',
        reason: `the API server rejected the rollback patch (dry run): ${(err as Error).message}`,
      };
    }

    let applied: Awaited<ReturnType<typeof applyOnce>>;
    try {
      applied = await applyOnce(job, ref, { snap, res }, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted || (err as Error).name === 'AbortError') {
        throw abortError('interrupted by shutdown before the patch was confirmed');
      }
      if (err instanceof NotFoundError) {
        return { outcome: 'skipped', reason: `${ref.kind} ${ref.namespace}/${ref.name} not found` };
      }
      return {
        outcome: 'failed',
        reason: `patching ${ref.kind} ${ref.namespace}/${ref.name} failed: ${describe(err)}`,
      };
    }
    if (!applied.applied) return skipped(job, applied.res);

    const actedAt = clock.now();
    const fields: JobPatch = {
      patched: true,
      actedAt: new Date(actedAt).toISOString(),
      fromRevision: applied.res.fromRevision,
      toRevision: applied.res.toRevision,
      images: applied.res.images,
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
    await emitEvent(ref, applied.snap, applied.record, ctx);
    const result = await follow(job, ref, ctx, actedAt);
    return { ...result, fields };
  };

  const emitEvent = async (
    ref: WorkloadRef,
    snap: Snapshot,
    record: LastRollback,
    ctx: ExecutionContext,
  ): Promise<void> => {
    try {
      await retry(
        () =>
          (client as KubeClient).createEvent(
            rollbackEvent({
              ref,
              workload: snap.workload,
              record,
              controllerName,
              instance,
              now: clock.now(),
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
  };

  return {
    name: 'kubernetes',

    async availability() {
      if (!client) return { available: false, reason: noClientReason };
      const now = clock.now();
      if (cachedAvailability && now - cachedAvailability.at < availabilityTtlMs) {
        return cachedAvailability.value;
      }
      let value: Availability;
      try {
        await client.version(Math.min(requestTimeoutMs, 3000));
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

    async pin(job) {
      const ref = job.target;
      if (!ref || !client) return {};
      try {
        const snap = await snapshot(ref);
        const current = snap.history.current;
        if (current?.createdAt && Date.parse(current.createdAt) > Date.parse(job.alert.startsAt)) {
          log.warn(
            {
              jobId: job.id,
              revision: snap.history.currentRevision,
              createdAt: current.createdAt,
              alertStartsAt: job.alert.startsAt,
            },
            'current revision is newer than the alert; pinned anyway, execution will decide',
          );
        }
        const previous = snap.history.previous;
        const res = resolve({ ...job, fromRevision: snap.history.currentRevision }, snap);
        return {
          fromRevision: snap.history.currentRevision,
          ...(previous ? { toRevision: previous.revision } : {}),
          ...(res.action === 'rollback' ? { images: res.images } : {}),
        };
      } catch (err) {
        log.warn(
          { jobId: job.id, err: (err as Error).message },
          'could not pin the current revision',
        );
        return {};
      }
    },

    async plan(job) {
      const ref = job.target;
      if (!ref) return { action: 'skip', reason: 'job has no Kubernetes target' };
      if (!client) return { action: 'unavailable', reason: noClientReason };
      try {
        const snap = await snapshot(ref);
        const res = resolve(job, snap);
        if (res.action !== 'rollback') return skipPlan(res);
        const base = {
          fromRevision: res.fromRevision,
          toRevision: res.toRevision,
          changes: { images: res.images },
        };
        try {
          await dryRun(ref, patchFor(ref, snap, res, recordFor(job, res)));
        } catch (err) {
          if (
            err instanceof InvalidError ||
            err instanceof ForbiddenError ||
            !(err instanceof TransientError)
          ) {
            return {
              action: 'rollback',
              reason: `${res.reason}, but the API server rejected the patch in a dry run: ${(err as Error).message}`,
              ...base,
              serverDryRun: false,
            };
          }
          throw err;
        }
        return { action: 'rollback', reason: res.reason, ...base, serverDryRun: true };
      } catch (err) {
        return planFailure(ref, err);
      }
    },

    execute,

    async recover(job, ctx) {
      const ref = job.target;
      if (!ref) return { outcome: 'failed', reason: 'job has no Kubernetes target' };
      if (!client)
        return { outcome: 'failed', reason: `Kubernetes executor unavailable: ${noClientReason}` };
      let workload;
      try {
        workload = await retry(() => client.readWorkload(ref, ctx.signal), ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw abortError('interrupted by shutdown');
        if (err instanceof NotFoundError) {
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
        const result = await follow(job, ref, ctx, startedAt);
        return { ...result, fields };
      }
      // Not applied: execute() re-checks the pinned revision and skips if the workload moved on.
      return execute(job, ctx);
    },
  };
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

function skipPlan(res: Resolution): Plan {
  return {
    action: 'skip',
    reason: res.reason,
    ...(res.fromRevision !== undefined ? { fromRevision: res.fromRevision } : {}),
    ...(res.toRevision !== undefined ? { toRevision: res.toRevision } : {}),
  };
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
