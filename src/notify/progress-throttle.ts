/**
 * At most one progress message per key (job) per interval, and only when its numbers changed
 * (`numbers`: the same as the last one offered is ignored). A call inside the interval is held;
 * a later call replaces it (the latest numbers win) and the held one goes out when the interval
 * has passed, unless a later stage cancels it first.
 */
import { unrefTimer } from './unref-timer.js';
export interface ProgressThrottleOptions<T> {
  intervalMs: number;
  now: () => number;
  emit: (key: string, item: T) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** At most this many progress messages per key (webhook mode: every post is a new message). */
  maxPerKey?: number;
}

interface Slot<T> {
  lastAt: number;
  numbers?: string | undefined;
  emitted: number;
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
    this.setTimer = o.setTimer ?? unrefTimer;
    this.clearTimer = o.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  offer(key: string, item: T, numbers?: string): void {
    const now = this.o.now();
    const slot = this.slots.get(key);
    if (!slot) {
      if (this.slots.size >= SWEEP_AT) this.sweep();
      this.slots.set(key, { lastAt: now, numbers, emitted: 1 });
      this.o.emit(key, item);
      return;
    }
    if (numbers !== undefined && numbers === slot.numbers) return;
    if (slot.emitted >= (this.o.maxPerKey ?? Infinity)) return;
    slot.numbers = numbers;
    const wait = slot.lastAt + this.o.intervalMs - now;
    if (wait <= 0 && slot.held === undefined) {
      slot.lastAt = now;
      slot.emitted++;
      this.o.emit(key, item);
      return;
    }
    slot.held = item;
    slot.timer ??= this.setTimer(() => this.release(key), Math.max(0, wait));
  }

  /**
   * A later stage was just posted: anything held is superseded, and the next progress message
   * waits a whole interval from now (it would only repeat what the stage said).
   */
  restart(key: string): void {
    const slot = this.cancel(key);
    this.slots.set(key, {
      lastAt: this.o.now(),
      numbers: slot?.numbers,
      emitted: slot?.emitted ?? 0,
    });
  }

  /** The job ended: anything held is superseded and the key is forgotten. */
  cancel(key: string): Slot<T> | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (slot.timer !== undefined) this.clearTimer(slot.timer);
    this.slots.delete(key);
    return slot;
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
    slot.emitted++;
    this.o.emit(key, held);
  }

  private sweep(): void {
    for (const [key, slot] of this.slots) if (slot.held === undefined) this.slots.delete(key);
  }
}
