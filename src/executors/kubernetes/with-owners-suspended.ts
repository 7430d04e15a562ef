// The "suspend owners → patch" stage of execute(): GitOps owners are turned off right before the
// rollback patch (so they cannot revert it), and whatever was turned off is turned back on when
// the patch never lands (it failed, or the workload no longer qualified on a re-read). A shutdown
// while the patch is on its way leaves them off: the patch may have landed, and recover() after
// the restart finds out from the workload itself.
import type { SuspendedOwner } from '../../model/owner.js';
import type { ClusterOwners } from '../../owners/cluster-owners.js';
import type { OwnerPlan } from '../../owners/plan-owner-action.js';
import type { Applied } from './rollback-patcher.js';

export interface OwnerJournal {
  /** The owners just turned off (called only when there are some). */
  suspended(owners: SuspendedOwner[]): Promise<void>;
  /** The patch never landed and these owners were turned back on. */
  restored(names: string[]): Promise<void>;
}

export type OwnersAndPatch =
  /** A suspension failed (the ones applied before it were put back): no patch was sent. */
  | { step: 'not_suspended'; reason: string }
  | { step: 'patched'; applied: Applied; suspended: SuspendedOwner[] };

/** Errors from `patch` are rethrown after the owners were restored. */
export async function withOwnersSuspended(
  owners: ClusterOwners,
  plan: OwnerPlan,
  journal: OwnerJournal,
  signal: AbortSignal,
  patch: () => Promise<Applied>,
): Promise<OwnersAndPatch> {
  let suspended: SuspendedOwner[];
  try {
    suspended = await owners.suspend(plan, signal);
  } catch (err) {
    return { step: 'not_suspended', reason: (err as Error).message };
  }
  if (suspended.length) await journal.suspended(suspended);
  const restore = async () => {
    if (!suspended.length) return;
    await journal.restored(await owners.restore(plan.suspensions.filter((s) => s.patch)));
  };
  let applied: Applied;
  try {
    applied = await patch();
  } catch (err) {
    if (!signal.aborted && (err as Error).name !== 'AbortError') await restore();
    throw err;
  }
  if (!applied.applied) await restore();
  return { step: 'patched', applied, suspended };
}
