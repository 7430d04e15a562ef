// What the controller needs to know about leadership (src/ha/high-availability.ts implements it):
// whether this replica may act now, and what to show on /readyz and /status.
export interface ReplicaLeadership {
  /** Undefined while this replica leads and may act; otherwise why not, e.g. "follower (leader is b)". */
  standbyReason(): string | undefined;
  status(): Record<string, unknown>;
}
