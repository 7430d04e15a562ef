// The cluster side of GitOps handling, next to the pure plan (plan-owner-action.ts): read the
// owner facts and plan, dry-run, apply and undo the suspensions the plan asks for, and tell
// whether a human turned a suspended owner back on. Every call goes through the caller's client
// and retry policy; nothing here decides anything the pure plan does not say.
import type { KubeClient } from '../kube/kube-client.js';
import { KubeNotFoundError } from '../kube/kube-errors.js';
import type { Workload } from '../kube/kube-types.js';
import type { ObjectRef, SuspendedOwner } from '../model/owner.js';
import type { WorkloadRef } from '../model/workload-ref.js';
import { automatedSync } from './argo-application.js';
import { gatherOwnerFacts } from './gather-owner-facts.js';
import { FLUX_RECONCILE, refText } from './owner-objects.js';
import {
  DEFAULT_OWNER_SETTINGS,
  planOwnerAction,
  type OwnerPlan,
  type OwnerSettings,
  type Suspension,
} from './plan-owner-action.js';
import { suspendedOwner } from './suspended-owners.js';
import { defined } from '../model/defined.js';

export interface ClusterOwnersOptions {
  client: KubeClient;
  retry<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** The field manager of every patch. */
  controllerName: string;
  now(): number;
  log: { error(obj: object, msg: string): void };
  settings?: OwnerSettings;
}

export interface ClusterOwners {
  /** Reads who manages the workload and plans what the rollback must do about it. */
  plan(ref: WorkloadRef, workload: Workload, signal?: AbortSignal): Promise<OwnerPlan>;
  /** Server-side dry run of every suspension patch; throws OwnerSuspendError. */
  dryRun(plan: OwnerPlan, signal?: AbortSignal): Promise<void>;
  /**
   * Applies the suspensions in order (roots first). On a failure the ones already applied are
   * put back and OwnerSuspendError is thrown: no suspension, no rollback patch.
   */
  suspend(plan: OwnerPlan, signal?: AbortSignal): Promise<SuspendedOwner[]>;
  /** Best effort: undo suspensions whose rollback never happened. Returns what was restored. */
  restore(list: ReadonlyArray<Pick<Suspension, 'object' | 'undo'>>): Promise<string[]>;
  /**
   * Whether a human turned a suspended owner back on (or deleted it): Argo CD automated sync
   * present again, the Flux reconcile annotation gone, the HelmRelease no longer suspended.
   */
  resumed(owner: SuspendedOwner): Promise<boolean>;
}

export class OwnerSuspendError extends Error {
  override name = 'OwnerSuspendError';
}

export function clusterOwners(o: ClusterOwnersOptions): ClusterOwners {
  const settings = o.settings ?? DEFAULT_OWNER_SETTINGS;
  const send = (
    ref: ObjectRef,
    patch: NonNullable<Suspension['patch']>,
    dryRun: boolean,
    signal?: AbortSignal,
  ) =>
    o.retry(
      () =>
        o.client.patchObject(ref, patch.body, patch.type, {
          dryRun,
          fieldManager: o.controllerName,
          ...defined({ signal }),
        }),
      signal,
    );

  const restore: ClusterOwners['restore'] = async (list) => {
    const restored: string[] = [];
    for (const s of [...list].reverse()) {
      if (!s.undo) continue;
      try {
        await send(s.object, s.undo, false);
        restored.push(refText(s.object));
      } catch (err) {
        o.log.error(
          { object: refText(s.object), err: (err as Error).message },
          'could not turn a suspended owner back on',
        );
      }
    }
    return restored;
  };

  return {
    async plan(ref, workload, signal) {
      const facts = await gatherOwnerFacts(
        o.client,
        {
          // The workload as an Argo CD tracking id names it (group/kind).
          apiVersion: ref.kind === 'Rollout' ? 'argoproj.io/v1alpha1' : 'apps/v1',
          kind: ref.kind,
          namespace: ref.namespace,
          name: ref.name,
        },
        { ...workload.metadata, namespace: ref.namespace },
        {
          argocdNamespaces: settings.argocdNamespaces,
          retry: (fn) => o.retry(fn, signal),
          ...defined({ signal }),
        },
      );
      return planOwnerAction(facts, settings);
    },

    async dryRun(plan, signal) {
      for (const s of plan.suspensions) {
        if (!s.patch) continue;
        try {
          await send(s.object, s.patch, true, signal);
        } catch (err) {
          throw new OwnerSuspendError(`${refText(s.object)}: ${(err as Error).message}`);
        }
      }
    },

    async suspend(plan, signal) {
      const done: Suspension[] = [];
      const at = new Date(o.now()).toISOString();
      for (const s of plan.suspensions) {
        if (!s.patch) continue;
        try {
          await send(s.object, s.patch, false, signal);
          done.push(s);
        } catch (err) {
          const restored = await restore(done);
          throw new OwnerSuspendError(
            `could not suspend ${refText(s.object)}: ${(err as Error).message}${restored.length ? ` (turned ${restored.join(', ')} back on)` : ''}`,
          );
        }
      }
      return done.map((s) => suspendedOwner(s, at));
    },

    restore,

    async resumed(owner) {
      try {
        if (owner.owner === 'flux_kustomization') {
          const w = await o.client.readWorkload({
            kind: owner.object.kind as WorkloadRef['kind'],
            namespace: owner.object.namespace,
            name: owner.object.name,
          });
          return w.metadata.annotations?.[FLUX_RECONCILE] !== 'disabled';
        }
        const obj = await o.client.readObject(owner.object);
        if (owner.owner === 'argocd') return automatedSync(obj) !== undefined;
        return obj.spec?.['suspend'] !== true;
      } catch (err) {
        if (err instanceof KubeNotFoundError) return true;
        throw err;
      }
    },
  };
}
