/**
 * At most one progress message per key (job) per interval. A call inside the interval is held;
 * a later call replaces it (the latest numbers win) and the held one goes out when the interval
 * has passed, unless a later stage cancels it first.
 */
export interface ProgressThrottleOptions<T> {
  intervalMs: number;
  now: () => number;
  emit: (key: string, item: T) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface Slot<T> {
  lastAt: number;
  held?: T;
  timer?: unknown;
}

/** Keys without a held message are forgotten once this many pile up (jobs that never ended). */
const SWEEP_AT = 1000;

export class ProgressThrottle<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly o: ProgressThrottleOptions<T>) {
    this.setTimer =
      o.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        // A held progress message must not keep a stopping process alive.
        t.unref();
        return t;
      });
    this.clearTimer = o.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  offer(key: string, item: T): void {
    const now = this.o.now();
    const slot = this.slots.get(key);
    if (!slot) {
      if (this.slots.size >= SWEEP_AT) this.sweep();
      this.slots.set(key, { lastAt: now });
      this.o.emit(key, item);
      return;
    }
    const wait = slot.lastAt + this.o.intervalMs - now;
    if (wait <= 0 && slot.held === undefined) {
      slot.lastAt = now;
      this.o.emit(key, item);
      return;
    }
    slot.held = item;
    slot.timer ??= this.setTimer(() => this.release(key), Math.max(0, wait));
  }

  /** A later stage supersedes anything held; the next progress message goes out at once. */
  cancel(key: string): T | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (slot.timer !== undefined) this.clearTimer(slot.timer);
    this.slots.delete(key);
    return slot.held;
  }

  /** Sends everything held now (shutdown). */
  releaseAll(): void {
    for (const key of [...this.slots.keys()]) this.release(key);
  }

  get heldCount(): number {
    let n = 0;
    for (const slot of this.slots.values()) if (slot.held !== undefined) n++;
    return n;
  }

  private release(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    if (slot.timer !== undefined) this.clearTimer(slot.timer);
    delete slot.timer;
    const held = slot.held;
    if (held === undefined) return;
    delete slot.held;
    slot.lastAt = this.o.now();
    this.o.emit(key, held);
  }

  private sweep(): void {
    for (const [key, slot] of this.slots) if (slot.held === undefined) this.slots.delete(key);
  }
}
