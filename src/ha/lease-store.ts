// The part of a coordination.k8s.io/v1 Lease that leader election reads and writes, and the
// storage seam the elector runs against (the API server in production, a Map in unit tests).

export interface LeaseRecord {
  /** '' when nobody holds it (released on a clean shutdown). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** MicroTime strings, as the API server stores them. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
  /** Optimistic concurrency: a replace with a stale one fails with LeaseConflictError. */
  resourceVersion?: string;
  /** Where the holder serves its API (LEADER_URL_ANNOTATION): followers forward there. */
  leaderUrl?: string;
  /** The replica key's signature over holder and URL (LEADER_SIGNATURE_ANNOTATION). */
  leaderSignature?: string;
  /** The kill switch and circuit breaker as JSON (controller-state-annotation.ts). */
  controllerState?: string;
}

/** The Lease annotation in which the leader publishes where followers reach it. */
export const LEADER_URL_ANNOTATION = 'rollback-controller.io/leader-url';
/** Proves a replica (one that holds the shared secrets) published that holder and URL. */
export const LEADER_SIGNATURE_ANNOTATION = 'rollback-controller.io/leader-signature';

/** Someone else wrote the Lease between our read and our write: we lost that race. */
export class LeaseConflictError extends Error {
  override name = 'LeaseConflictError';
}

export interface LeaseStore {
  /** namespace/name, for logs and /status. */
  readonly describe: string;
  /** The Lease, or undefined when it does not exist. */
  get(timeoutMs: number): Promise<LeaseRecord | undefined>;
  /** Creates it; LeaseConflictError when it already exists. */
  create(record: LeaseRecord, timeoutMs: number): Promise<LeaseRecord>;
  /** Replaces it at `record.resourceVersion`; LeaseConflictError when that is stale. */
  replace(record: LeaseRecord, timeoutMs: number): Promise<LeaseRecord>;
}

/** RFC 3339 with microseconds, the wire form of metav1.MicroTime. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}
