/**
 * One message per key held for a while: released when the time is up, or taken back (and not
 * sent) when something newer about the same key comes first. Webhook mode folds "queued" into
 * "started" with it.
 */
import { unrefTimer } from './unref-timer.js';
export class HeldMessages<T> {
  private readonly held = new Map<string, { item: T; timer: unknown }>();
  private readonly setTimer: (fn: () => void, ms: number) => unknown;

  constructor(
    private readonly o: {
      holdMs: number;
      release: (key: string, item: T) => void;
      setTimer?: (fn: () => void, ms: number) => unknown;
      clearTimer?: (handle: unknown) => void;
    },
  ) {
    this.setTimer = o.setTimer ?? unrefTimer;
  }

  hold(key: string, item: T): void {
    this.take(key);
    const timer = this.setTimer(() => this.releaseOne(key), this.o.holdMs);
    this.held.set(key, { item, timer });
  }

  /** Takes the held message back unsent. */
  take(key: string): T | undefined {
    const h = this.held.get(key);
    if (!h) return undefined;
    this.held.delete(key);
    (this.o.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout)))(h.timer);
    return h.item;
  }

  releaseAll(): void {
    for (const key of [...this.held.keys()]) this.releaseOne(key);
  }

  private releaseOne(key: string): void {
    const item = this.take(key);
    if (item !== undefined) this.o.release(key, item);
  }
}
