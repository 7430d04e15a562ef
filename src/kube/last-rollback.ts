// The record a rollback leaves on the workload (contract.md "Kubernetes rollback semantics"). It is how
// a restarted controller knows its patch landed, and how it refuses to undo its own rollback.
export const LAST_ROLLBACK_ANNOTATION = 'rollback-controller.io/last-rollback';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** A queued or running job's intent (src/ha/pending-rollback.ts); the rollback patch keeps it. */
export const PENDING_ROLLBACK_ANNOTATION = 'rollback-controller.io/pending-rollback';

export interface LastRollback {
  jobId: string;
  alert: string;
  trigger: string;
  fromRevision: number;
  toRevision: number;
  /** Name of the ReplicaSet/ControllerRevision rolled back to: it keeps its name when renumbered. */
  toName?: string;
  at: string;
  /** The alert instance (fingerprint + startsAt) this rollback answered; absent in older records. */
  fingerprint?: string;
  startsAt?: string;
}

export function formatLastRollback(record: LastRollback): string {
  return JSON.stringify(record);
}

/** The record from a workload's annotations, or undefined when absent or not ours. */
export function parseLastRollback(
  annotations: Record<string, string> | undefined,
): LastRollback | undefined {
  const raw = annotations?.[LAST_ROLLBACK_ANNOTATION];
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<LastRollback>;
    if (
      typeof v.jobId !== 'string' ||
      typeof v.fromRevision !== 'number' ||
      typeof v.toRevision !== 'number'
    ) {
      return undefined;
    }
    return {
      jobId: v.jobId,
      alert: String(v.alert ?? ''),
      trigger: String(v.trigger ?? ''),
      fromRevision: v.fromRevision,
      toRevision: v.toRevision,
      ...(typeof v.toName === 'string' ? { toName: v.toName } : {}),
      at: String(v.at ?? ''),
      ...(typeof v.fingerprint === 'string' ? { fingerprint: v.fingerprint } : {}),
      ...(typeof v.startsAt === 'string' ? { startsAt: v.startsAt } : {}),
    };
  } catch {
    return undefined;
  }
}

export function changeCause(record: LastRollback): string {
  return `rollback-controller: rolled back from revision ${record.fromRevision} to ${record.toRevision} (alert ${record.alert}, trigger ${record.trigger}, job ${record.jobId})`;
}
