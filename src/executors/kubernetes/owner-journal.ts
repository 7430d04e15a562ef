// What a Kubernetes job records about its owners (Argo CD, Flux) as the executor turns them off
// before the patch and, if the patch never lands, back on (with-owners-suspended.ts).
import type { ExecutionContext } from '../../model/executor.js';
import type { JobOwner, SuspendedOwner } from '../../model/owner.js';
import { refText } from '../../owners/owner-objects.js';
import { mergeSuspended } from '../../owners/suspended-owners.js';
import type { OwnerJournal } from './with-owners-suspended.js';

/** What the job records about its owners as they are turned off and (if the patch never lands) on. */
export function ownerJournal(
  ctx: ExecutionContext,
  owner: JobOwner | undefined,
  prior: SuspendedOwner[],
): OwnerJournal {
  return {
    async suspended(now) {
      if (!owner) return;
      await ctx.update({ owner: { ...owner, suspended: mergeSuspended(prior, now) } });
      ctx.progress({
        event: 'owner_suspended',
        message: now.map((o) => `${o.change} on ${refText(o.object)}`).join('; '),
        data: { objects: now.map((o) => refText(o.object)) },
      });
    },
    async restored(names) {
      await ctx.update(owner ? { owner: { ...owner, action: 'skipped', suspended: prior } } : {});
      ctx.progress({
        event: 'owner_restored',
        message: `no rollback patch was applied: turned ${names.join(', ') || 'nothing'} back on`,
      });
    },
  };
}
