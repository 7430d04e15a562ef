/**
 * A FIFO with a hard size. When full, what is lost is chosen by value: the oldest progress
 * message first (a later one says more), then an incoming progress message, and only then the
 * oldest message of any kind.
 */
export class BoundedOutbox<T extends { progress: boolean }> {
  private items: T[] = [];

  constructor(private readonly max: number) {}

  get size(): number {
    return this.items.length;
  }

  /** Adds `item`; returns what was dropped to make room (possibly `item` itself). */
  push(item: T): T[] {
    if (this.max <= 0) return [item];
    const dropped: T[] = [];
    while (this.items.length >= this.max) {
      const progressAt = this.items.findIndex((i) => i.progress);
      if (progressAt >= 0) {
        dropped.push(...this.items.splice(progressAt, 1));
      } else if (item.progress) {
        return [...dropped, item];
      } else {
        dropped.push(this.items.shift()!);
      }
    }
    this.items.push(item);
    return dropped;
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Removes every item matching `pred` (a later stage superseding queued progress). */
  remove(pred: (item: T) => boolean): T[] {
    const removed = this.items.filter(pred);
    if (removed.length) this.items = this.items.filter((i) => !pred(i));
    return removed;
  }
}
