// The Kubernetes side of GitOps handling: find the workload's owners (reads), check and apply
// the suspensions the pure plan asks for, put them back when the rollback never happens, and
// tell whether a human has turned a suspended owner back on.
import { KubeNotFoundError } from '../../kube/kube-errors.js';
import type { Workload } from '../../kube/kube-types.js';
import type { PlanOwner } from '../../model/executor.js';
import { ownerKey, type ObjectRef, type SuspendedOwner } from '../../model/owner.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import { automatedSync } from '../../owners/argo-application.js';
import { gatherOwnerFacts } from '../../owners/gather-owner-facts.js';
import { FLUX_RECONCILE, refText } from '../../owners/owner-objects.js';
import {
  planOwnerAction,
  type OwnerPlan,
  type OwnerPolicy,
  type Suspension,
} from '../../owners/plan-owner-action.js';
import type { KubeExecutorContext } from './kube-executor-context.js';
import { ROLLOUT_API_VERSION } from './rollouts/argo-rollout.js';

export interface OwnerSettings extends OwnerPolicy {
  argocdNamespaces: readonly string[];
}

export const DEFAULT_OWNER_SETTINGS: OwnerSettings = {
  argocd: 'suspend',
  flux: 'suspend',
  argocdNamespaces: ['argocd'],
  namespaceProblem: () => undefined,
};

export function workloadObjectRef(ref: WorkloadRef): ObjectRef {
  const apiVersion = ref.kind === 'Rollout' ? ROLLOUT_API_VERSION : 'apps/v1';
  return { apiVersion, kind: ref.kind, namespace: ref.namespace, name: ref.name };
}

export async function planOwners(
  k: KubeExecutorContext,
  ref: WorkloadRef,
  workload: Workload,
  signal?: AbortSignal,
): Promise<OwnerPlan> {
  const settings = k.options.owners ?? DEFAULT_OWNER_SETTINGS;
  const facts = await gatherOwnerFacts(
    k.client,
    workloadObjectRef(ref),
    { ...workload.metadata, namespace: ref.namespace },
    {
      argocdNamespaces: settings.argocdNamespaces,
      retry: (fn) => k.retry(fn, signal),
      ...(signal ? { signal } : {}),
    },
  );
  return planOwnerAction(facts, settings);
}

/** The dry run's `owner`. */
export function planOwnerView(plan: OwnerPlan): PlanOwner | undefined {
  if (plan.action === 'none') return undefined;
  return {
    owner: plan.owner,
    ...(plan.name ? { name: plan.name } : {}),
    action: plan.action,
    reason: plan.reason,
    ...(plan.advice ? { advice: plan.advice } : {}),
    ...(plan.suspensions.length
      ? {
          changes: plan.suspensions.map((s) => ({
            object: refText(s.object),
            change: s.change,
            resumeCommand: s.resumeCommand,
          })),
        }
      : {}),
  };
}

export class OwnerSuspendError extends Error {
  override name = 'OwnerSuspendError';
}

/** Server-side dry run of every suspension patch; throws OwnerSuspendError. */
export async function dryRunSuspensions(
  k: KubeExecutorContext,
  plan: OwnerPlan,
  signal?: AbortSignal,
): Promise<void> {
  for (const s of plan.suspensions) {
    if (!s.patch) continue;
    try {
      await send(k, s.object, s.patch, true, signal);
    } catch (err) {
      throw new OwnerSuspendError(`${refText(s.object)}: ${(err as Error).message}`);
    }
  }
}

/**
 * Applies the suspensions in order (roots first). On a failure the ones already applied are put
 * back and OwnerSuspendError is thrown: no suspension, no rollback patch.
 */
export async function applySuspensions(
  k: KubeExecutorContext,
  plan: OwnerPlan,
  signal?: AbortSignal,
): Promise<SuspendedOwner[]> {
  const done: Suspension[] = [];
  const at = new Date(k.clock.now()).toISOString();
  for (const s of plan.suspensions) {
    if (!s.patch) continue;
    try {
      await send(k, s.object, s.patch, false, signal);
      done.push(s);
    } catch (err) {
      const restored = await restoreSuspensions(k, done);
      throw new OwnerSuspendError(
        `could not suspend ${refText(s.object)}: ${(err as Error).message}${restored.length ? ` (turned ${restored.join(', ')} back on)` : ''}`,
      );
    }
  }
  return done.map((s) => suspended(s, at));
}

/** Suspensions that ride on the rollback patch itself (Flux Kustomization's workload annotation). */
export function inPatchSuspensions(plan: OwnerPlan, at: number): SuspendedOwner[] {
  return plan.suspensions
    .filter((s) => !s.patch)
    .map((s) => suspended(s, new Date(at).toISOString()));
}

/** Best effort: undo suspensions whose rollback never happened. Returns what was restored. */
export async function restoreSuspensions(
  k: KubeExecutorContext,
  list: ReadonlyArray<Pick<Suspension, 'object' | 'undo'>>,
): Promise<string[]> {
  const restored: string[] = [];
  for (const s of [...list].reverse()) {
    if (!s.undo) continue;
    try {
      await send(k, s.object, s.undo, false);
      restored.push(refText(s.object));
    } catch (err) {
      k.log.error(
        { object: refText(s.object), err: (err as Error).message },
        'could not turn a suspended owner back on',
      );
    }
  }
  return restored;
}

/**
 * Whether a human turned a suspended owner back on (or deleted it): Argo CD automated sync
 * present again, the Flux reconcile annotation gone, the HelmRelease no longer suspended.
 */
export async function ownerResumed(k: KubeExecutorContext, o: SuspendedOwner): Promise<boolean> {
  try {
    if (o.owner === 'flux_kustomization') {
      const w = await k.client.readWorkload({
        kind: o.object.kind as WorkloadRef['kind'],
        namespace: o.object.namespace,
        name: o.object.name,
      });
      return w.metadata.annotations?.[FLUX_RECONCILE] !== 'disabled';
    }
    const obj = await k.client.readObject(o.object);
    if (o.owner === 'argocd') return automatedSync(obj) !== undefined;
    return obj.spec?.['suspend'] !== true;
  } catch (err) {
    if (err instanceof KubeNotFoundError) return true;
    throw err;
  }
}

function suspended(s: Suspension, at: string): SuspendedOwner {
  return {
    owner: s.owner,
    object: s.object,
    role: s.role,
    change: s.change,
    resumeCommand: s.resumeCommand,
    ...(s.previous !== undefined ? { previous: s.previous } : {}),
    suspendedAt: at,
  };
}

async function send(
  k: KubeExecutorContext,
  ref: ObjectRef,
  patch: NonNullable<Suspension['patch']>,
  dryRun: boolean,
  signal?: AbortSignal,
): Promise<void> {
  await k.retry(
    () =>
      k.client.patchObject(ref, patch.body, patch.type, {
        dryRun,
        fieldManager: k.controllerName,
        ...(signal ? { signal } : {}),
      }),
    signal,
  );
}

/** Merge two suspended lists, keeping the first record of each object. */
export function mergeSuspended(a: SuspendedOwner[], b: SuspendedOwner[]): SuspendedOwner[] {
  const seen = new Set(a.map(ownerKey));
  return [...a, ...b.filter((o) => !seen.has(ownerKey(o)))];
}
