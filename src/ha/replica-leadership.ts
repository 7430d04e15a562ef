// What the controller and the HTTP layer need to know about leadership
// (src/ha/high-availability.ts implements it): whether this replica may act now, where an API
// request goes, and what to show on /readyz and /status.

/** Where an authenticated API request is served. */
export type LeaderRoute =
  /** Here: this replica leads (or is taking over, and then the controller answers 503 briefly). */
  | { to: 'self' }
  /** Forwarded to the leader, which published its URL on the Lease. */
  | { to: 'leader'; holder: string; url: string; epoch: string }
  /** Nowhere yet (no leader elected, or it published no URL): 503, Alertmanager retries. */
  | { to: 'nobody'; reason: string };

export interface ReplicaLeadership {
  /** This replica's identity (the Lease holder name when it leads). */
  readonly identity: string;
  /** This process's epoch: forwards are signed for one leader process (forward-signature.ts). */
  readonly epoch: string;
  /**
   * Undefined while this replica leads and may act; otherwise why not. The controller refuses to
   * decide, approve or pause while this is set, whatever the HTTP layer did.
   */
  standbyReason(): string | undefined;
  route(): LeaderRoute;
  /** One line for /readyz: "leader", "follower (forwarding to b)", ... */
  describe(): string;
  status(): Record<string, unknown>;
  /** The pause or circuit state changed here: the leader publishes it for its successors. */
  controllerStateChanged?(): void;
}
