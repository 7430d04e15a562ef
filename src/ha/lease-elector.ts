// Leader election on a coordination.k8s.io/v1 Lease, the protocol client-go's leaderelection
// package uses (@kubernetes/client-node has no helper): read the Lease; take it when it is free,
// ours, or expired; write it back at the resourceVersion we read, so of two candidates only one
// write wins (the other gets 409). Expiry is judged by when *we* last saw the Lease change, on
// our own clock, never by comparing the holder's renewTime with our clock: clocks skew.
//
// The leader renews every retryPeriod and stops acting if it could not renew for renewDeadline.
// renewDeadline < leaseDuration is what makes it safe: the old leader has stood down before any
// other candidate can consider the Lease expired.
//
// The holder also publishes where it serves its API (the leader-url annotation, written on every
// acquire and renew), so followers can forward requests to it without any other discovery. It
// also carries the controller state (pause, circuit breaker) the leader publishes: every write
// puts the latest value, so a write that failed is retried by the next renewal; while this
// replica has nothing to publish (it is still taking over) the value on the Lease is kept.
import { pino, type Logger } from 'pino';
import { abortableSleep } from '../kube/abort-error.js';
import { LeaseConflictError, microTime, type LeaseRecord, type LeaseStore } from './lease-store.js';

export interface Leadership {
  leading: boolean;
  /** Who holds the Lease as last observed (undefined: nobody, or not read yet). */
  holder?: string;
  /** Where the holder serves its API, as it published it (undefined: not published). */
  holderUrl?: string;
  /** The holder's signature over holder and URL, as published (verified by the caller). */
  holderSignature?: string;
}

export interface LeaseElectorOptions {
  store: LeaseStore;
  identity: string;
  /** Where this replica serves its API; published on the Lease while it leads. */
  advertiseUrl?: string;
  /** Signs this replica's identity and advertise URL for the Lease (replica key). */
  signLeader?: (identity: string, url: string) => string;
  /** What to publish in the controller-state annotation; undefined: keep what is there. */
  controllerState?: () => string | undefined;
  /** Every Lease as read from the store, before this replica writes it (followers verify it). */
  observe?: (record: LeaseRecord) => void;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  logger?: Logger;
}

type Attempt =
  | { result: 'leading'; at: number }
  | { result: 'held'; holder: string; url: string | undefined; signature: string | undefined }
  | { result: 'failed'; error: string };

export class LeaseElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly log: Logger;
  private readonly listeners = new Set<(l: Leadership) => void>();
  private state: Leadership = { leading: false };
  private observed?: { record: LeaseRecord; at: number };
  private lastRenewAt = 0;
  private loop?: Promise<void>;
  private readonly stopper = new AbortController();
  private wake: AbortController | undefined;
  private hurry = false;
  /** The controller state the current attempt tries to publish, and failed writes of it. */
  private wanted: string | undefined;
  private unpublished = 0;
  private readonly signature: string | undefined;

  constructor(private readonly o: LeaseElectorOptions) {
    this.identity = o.identity;
    this.leaseDurationMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 2_000;
    if (!(this.renewDeadlineMs < this.leaseDurationMs))
      throw new Error('the renew deadline must be shorter than the lease duration');
    if (!(this.retryPeriodMs < this.renewDeadlineMs))
      throw new Error('the retry period must be shorter than the renew deadline');
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? abortableSleep;
    this.log = o.logger ?? pino({ enabled: false });
    if (o.advertiseUrl && o.signLeader) this.signature = o.signLeader(o.identity, o.advertiseUrl);
  }

  get leading(): boolean {
    return this.state.leading;
  }

  get holder(): string | undefined {
    return this.state.holder;
  }

  get holderUrl(): string | undefined {
    return this.state.holderUrl;
  }

  get holderSignature(): string | undefined {
    return this.state.holderSignature;
  }

  get lease(): string {
    return this.o.store.describe;
  }

  /** The controller-state annotation on the Lease as last read or written. */
  get controllerState(): string | undefined {
    return this.observed?.record.controllerState;
  }

  /** Called when `leading`, the observed holder or its URL changes. Returns the unsubscribe. */
  onChange(listener: (l: Leadership) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs the election in the background until stop(). */
  start(): void {
    this.loop ??= (async () => {
      while (!this.stopper.signal.aborted) {
        this.hurry = false;
        await this.tick();
        if (this.stopper.signal.aborted) break;
        if (this.hurry) continue;
        this.wake = new AbortController();
        await this.sleep(
          this.retryPeriodMs,
          AbortSignal.any([this.stopper.signal, this.wake.signal]),
        );
        this.wake = undefined;
      }
    })();
  }

  /** Write the Lease now rather than at the next renewal: what it publishes changed. */
  renewNow(): void {
    this.hurry = true;
    this.wake?.abort();
  }

  /**
   * Stops campaigning. With `release`, a leader hands the Lease back (empty holder) so a
   * follower takes over at its next retry instead of waiting for the Lease to expire.
   */
  async stop(o: { release?: boolean } = {}): Promise<void> {
    this.stopper.abort();
    await this.loop;
    if (o.release && this.state.leading && this.observed) {
      const rec = this.observed.record;
      try {
        // Nobody leads: followers must not keep forwarding to this replica's URL.
        const released: LeaseRecord = { ...rec, holderIdentity: '', leaseDurationSeconds: 1 };
        delete released.leaderUrl;
        delete released.leaderSignature;
        // The next leader takes the kill switch over from here.
        const state = this.o.controllerState?.();
        if (state !== undefined) released.controllerState = state;
        await this.o.store.replace(released, this.renewDeadlineMs);
        this.log.info({ lease: this.lease }, 'released the lease');
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'could not release the lease');
      }
    }
    this.set({ leading: false });
  }

  /** One round: try to acquire or renew, then step up or down. Public for tests. */
  async tick(): Promise<Leadership> {
    const attempt = await this.tryAcquireOrRenew();
    const now = this.now();
    this.notePublished(attempt);
    if (attempt.result === 'leading') {
      this.lastRenewAt = attempt.at;
      if (!this.state.leading)
        this.log.info({ lease: this.lease, identity: this.identity }, 'became the leader');
      this.set({
        leading: true,
        holder: this.identity,
        ...(this.o.advertiseUrl ? { holderUrl: this.o.advertiseUrl } : {}),
        ...(this.signature ? { holderSignature: this.signature } : {}),
      });
    } else if (attempt.result === 'held') {
      if (this.state.leading)
        this.log.warn(
          { lease: this.lease, holder: attempt.holder },
          'lost the lease; standing down',
        );
      this.set({
        leading: false,
        holder: attempt.holder,
        ...(attempt.url ? { holderUrl: attempt.url } : {}),
        ...(attempt.signature ? { holderSignature: attempt.signature } : {}),
      });
    } else if (this.state.leading && now - this.lastRenewAt >= this.renewDeadlineMs) {
      this.log.error(
        { lease: this.lease, error: attempt.error, renewDeadlineMs: this.renewDeadlineMs },
        'could not renew the lease before the deadline; standing down',
      );
      this.set({ leading: false });
    } else {
      this.log.debug({ lease: this.lease, error: attempt.error }, 'lease attempt failed');
    }
    return this.state;
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    // A leader's call may not outlive its renew deadline; a candidate has no such hurry.
    const timeoutMs = this.state.leading
      ? Math.max(100, this.lastRenewAt + this.renewDeadlineMs - this.now())
      : this.renewDeadlineMs;
    const at = this.now();
    const wanted = (this.wanted = this.o.controllerState?.());
    const mine: Omit<LeaseRecord, 'leaseTransitions'> = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime: microTime(at),
      renewTime: microTime(at),
      ...(this.o.advertiseUrl ? { leaderUrl: this.o.advertiseUrl } : {}),
      ...(this.signature ? { leaderSignature: this.signature } : {}),
    };
    let current: LeaseRecord | undefined;
    try {
      current = await this.o.store.get(timeoutMs);
      if (!current) {
        const fresh = { ...mine, ...(wanted ? { controllerState: wanted } : {}) };
        this.remember(await this.o.store.create({ ...fresh, leaseTransitions: 0 }, timeoutMs), at);
        return { result: 'leading', at };
      }
    } catch (err) {
      return { result: 'failed', error: describe(err) };
    }
    if (!this.observed || !sameRecord(this.observed.record, current)) this.remember(current, at);
    this.o.observe?.(current);
    const holder = current.holderIdentity;
    const ours = holder === this.identity;
    const expiresAt =
      (this.observed?.at ?? at) + Math.max(1, current.leaseDurationSeconds || 0) * 1000;
    if (holder && !ours && expiresAt > at)
      return {
        result: 'held',
        holder,
        url: current.leaderUrl,
        signature: current.leaderSignature,
      };
    try {
      const state = wanted ?? current.controllerState;
      const next: LeaseRecord = {
        ...mine,
        ...(state ? { controllerState: state } : {}),
        ...(ours && current.acquireTime ? { acquireTime: current.acquireTime } : {}),
        leaseTransitions: (current.leaseTransitions || 0) + (ours ? 0 : 1),
        ...(current.resourceVersion ? { resourceVersion: current.resourceVersion } : {}),
      };
      this.remember(await this.o.store.replace(next, timeoutMs), at);
      if (!ours)
        this.log.info({ lease: this.lease, previous: holder || null }, 'took over the lease');
      return { result: 'leading', at };
    } catch (err) {
      return { result: 'failed', error: describe(err) };
    }
  }

  /** A leader logs when the state it publishes did not reach the Lease, and when it did again. */
  private notePublished(attempt: Attempt): void {
    const wanted = this.wanted;
    if (attempt.result === 'leading') {
      if (this.unpublished > 0 && this.controllerState === wanted)
        this.log.info(
          { lease: this.lease, failedWrites: this.unpublished },
          'controller state (pause, circuit breaker) published on the lease',
        );
      this.unpublished = 0;
    } else if (
      attempt.result === 'failed' &&
      this.state.leading &&
      wanted !== undefined &&
      wanted !== this.controllerState
    ) {
      this.unpublished++;
      this.log[this.unpublished === 1 ? 'warn' : 'debug'](
        { lease: this.lease, error: attempt.error, failedWrites: this.unpublished },
        'could not publish the controller state (pause, circuit breaker) on the lease; retrying at the next renewal',
      );
    }
  }

  private remember(record: LeaseRecord, at: number): void {
    this.observed = { record, at };
  }

  private set(next: Leadership): void {
    const changed =
      next.leading !== this.state.leading ||
      next.holder !== this.state.holder ||
      next.holderUrl !== this.state.holderUrl ||
      next.holderSignature !== this.state.holderSignature;
    this.state = next;
    if (!changed) return;
    for (const l of this.listeners) {
      try {
        l(next);
      } catch (err) {
        this.log.error({ err }, 'leadership listener failed');
      }
    }
  }
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.renewTime === b.renewTime &&
    a.acquireTime === b.acquireTime &&
    a.leaseTransitions === b.leaseTransitions &&
    a.resourceVersion === b.resourceVersion &&
    a.leaderUrl === b.leaderUrl &&
    a.leaderSignature === b.leaderSignature &&
    a.controllerState === b.controllerState
  );
}

function describe(err: unknown): string {
  if (err instanceof LeaseConflictError) return `lost the race: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}
