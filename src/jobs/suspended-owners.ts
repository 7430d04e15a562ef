// The GitOps owners that jobs suspended and nobody has turned back on yet, indexed from the jobs
// as they change (the jobs are the record; this is a view for /status, the gauge and the check
// that notices a human resuming one).
import type { Job } from '../model/job.js';
import { ownerKey, type SuspendedOwner } from '../model/owner.js';
import type { WorkloadRef } from '../model/workload-ref.js';

export interface SuspendedEntry {
  key: string;
  jobId: string;
  target?: WorkloadRef;
  owner: SuspendedOwner;
}

export const SUSPENDABLE_OWNERS = ['argocd', 'flux_kustomization', 'flux_helmrelease'] as const;

export class SuspendedOwners {
  private readonly byKey = new Map<string, SuspendedEntry>();

  /** Follows a job change (the JobStore listener). */
  readonly changed = (before: Job | undefined, after: Job): void => {
    for (const o of before?.owner?.suspended ?? []) {
      const key = ownerKey(o);
      if (this.byKey.get(key)?.jobId === after.id) this.byKey.delete(key);
    }
    for (const o of after.owner?.suspended ?? []) {
      if (o.resumedAt) continue;
      this.byKey.set(ownerKey(o), {
        key: ownerKey(o),
        jobId: after.id,
        ...(after.target ? { target: after.target } : {}),
        owner: o,
      });
    }
  };

  list(): SuspendedEntry[] {
    return [...this.byKey.values()].sort((a, b) =>
      a.owner.suspendedAt.localeCompare(b.owner.suspendedAt),
    );
  }

  counts(): Record<(typeof SUSPENDABLE_OWNERS)[number], number> {
    const out = { argocd: 0, flux_kustomization: 0, flux_helmrelease: 0 };
    for (const e of this.byKey.values()) out[e.owner.owner] += 1;
    return out;
  }
}
