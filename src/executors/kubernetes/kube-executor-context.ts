// What every part of the Kubernetes executor shares: a client that exists (an executor without
// one is the unavailable executor), retries, the clock, the one rollback resolution and the
// cluster side of the workload's GitOps owners.
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { abortableSleep } from '../../kube/abort-error.js';
import type { KubeClient } from '../../kube/kube-client.js';
import { KUBE_RETRY, withRetry, type RetryPolicy } from '../../kube/with-retry.js';
import type { Job } from '../../model/job.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import { clusterOwners, type ClusterOwners } from '../../owners/cluster-owners.js';
import type { OwnerSettings } from '../../owners/plan-owner-action.js';
import type { WatchCache } from '../../kube/watch-cache.js';
import { cachedSnapshot } from './cached-snapshot.js';
import { readSnapshot, type Snapshot } from './read-snapshot.js';
import { resolveRollback, type Resolution } from './resolve-rollback.js';
import { asRollout } from './rollouts/argo-rollout.js';
import type { RolloutHistory } from './rollouts/find-rollout-revisions.js';
import { resolveRollout } from './rollouts/resolve-rollout.js';
import { defined } from '../../model/defined.js';

export interface KubernetesExecutorOptions {
  optOutAnnotation: string;
  /** policy.maxRevisionAgeSeconds (default 86400; 0 = no limit). */
  maxRevisionAgeSeconds?: number;
  /** policy.deleteStuckPods: delete StatefulSet pods stuck on the bad revision after the patch. */
  deleteStuckPods?: boolean;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  retry?: RetryPolicy;
  clock?: { now(): number };
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger?: Logger;
  controllerName?: string;
  /** How long an availability answer is reused. */
  availabilityTtlMs?: number;
  /** GitOps owners: `policy.owners` and the allowed namespaces (default: suspend, `argocd`). */
  owners?: OwnerSettings;
  /** The watch cache planning reads from first (kube/watch-cache.ts); none: direct reads only. */
  cache?: WatchCache;
}

export type RollbackResolution = Extract<Resolution, { action: 'rollback' }>;

export interface KubeExecutorContext {
  client: KubeClient;
  options: KubernetesExecutorOptions;
  clock: { now(): number };
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  log: Logger;
  controllerName: string;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  /** This replica, for the Events it emits. */
  instance: string;
  retry<T>(fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /**
   * The workload and its history: from the watch cache when it has a consistent answer (a
   * planning read: the PATCH's resourceVersion test catches a stale one), else from the API
   * server; `direct` always from the API server.
   */
  snapshot(ref: WorkloadRef, signal?: AbortSignal, o?: { direct?: boolean }): Promise<Snapshot>;
  resolve(job: Job, snap: Snapshot): Resolution;
  /** Reads, plans, suspends and restores the workload's GitOps owners. */
  owners: ClusterOwners;
}

export function kubeExecutorContext(
  client: KubeClient,
  options: KubernetesExecutorOptions,
): KubeExecutorContext {
  const sleep = options.sleep ?? abortableSleep;
  const log = options.logger ?? pino({ enabled: false });
  const retryPolicy = options.retry ?? KUBE_RETRY;
  const retry = <T>(fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> =>
    withRetry(fn, {
      ...retryPolicy,
      sleep,
      ...defined({ signal }),
      onRetry: (err, attempt, delayMs) =>
        log.warn({ err: err.message, attempt, delayMs }, 'Kubernetes call failed, retrying'),
    });
  const clock = options.clock ?? { now: () => Date.now() };
  const controllerName = options.controllerName ?? 'rollback-controller';
  return {
    client,
    options,
    clock,
    sleep,
    log,
    controllerName,
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    instance: hostname(),
    retry,
    snapshot: async (ref, signal, o) =>
      (options.cache && !o?.direct ? cachedSnapshot(options.cache, ref) : undefined) ??
      retry(() => readSnapshot(client, ref, signal), signal),
    resolve: (job, snap) => {
      const policy = {
        job,
        optOutAnnotation: options.optOutAnnotation,
        maxRevisionAgeSeconds: options.maxRevisionAgeSeconds ?? 86_400,
      };
      if (kindOf(job) === 'Rollout') {
        return resolveRollout(
          {
            rollout: asRollout(snap.workload),
            history: snap.history as RolloutHistory,
            ...(snap.reference ? { reference: snap.reference } : {}),
          },
          policy,
        );
      }
      return resolveRollback({
        kind: kindOf(job),
        workload: snap.workload,
        history: snap.history,
        ...policy,
      });
    },
    owners: clusterOwners({
      client,
      retry,
      controllerName,
      now: () => clock.now(),
      log,
      ...defined({ settings: options.owners }),
    }),
  };
}

function kindOf(job: Job): WorkloadRef['kind'] {
  if (!job.target) throw new Error(`job ${job.id} has no Kubernetes target`);
  return job.target.kind;
}
