// The `suspended` list a job carries (pure): one record per object the controller changed so
// that a GitOps owner stops reverting the rollback.
import { ownerKey, type SuspendedOwner } from '../model/owner.js';
import type { OwnerPlan, Suspension } from './plan-owner-action.js';

export function suspendedOwner(s: Suspension, at: string): SuspendedOwner {
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

/** Suspensions that ride on the rollback patch itself (Flux Kustomization's workload annotation). */
export function inPatchSuspensions(plan: OwnerPlan, at: number): SuspendedOwner[] {
  return plan.suspensions
    .filter((s) => !s.patch)
    .map((s) => suspendedOwner(s, new Date(at).toISOString()));
}

/** Merge two suspended lists, keeping the first record of each object. */
export function mergeSuspended(a: SuspendedOwner[], b: SuspendedOwner[]): SuspendedOwner[] {
  const seen = new Set(a.map(ownerKey));
  return [...a, ...b.filter((o) => !seen.has(ownerKey(o)))];
}
