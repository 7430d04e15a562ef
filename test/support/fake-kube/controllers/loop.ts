// Drives the simulated controllers in discrete steps. A step runs every controller once; each
// step that changed something schedules the next one `stepMs` later, so a rollout advances one
// pod-level move per step, and the loop goes idle once a step changes nothing.
import type { Store } from '../store.js';

export interface SyncResult {
  changed: boolean;
  /** Epoch ms at which the controller wants another look (a progress deadline). */
  wakeAt?: number;
}

export interface Controller {
  sync(now: number): SyncResult;
}

const watchedKinds = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'ControllerRevision',
]);

export class ControllerLoop {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private inStep = false;
  private dirty = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  private readonly unsubscribe: () => void;

  constructor(
    private readonly controllers: Controller[],
    private readonly stepMs: number,
    store: Store,
  ) {
    // Writes from outside (API requests, test helpers) wake the controllers at once, as
    // informers would; the controllers' own writes are paced by the step timer instead.
    this.unsubscribe = store.subscribe((change) => {
      if (!this.inStep && watchedKinds.has(change.resource.kind)) this.kick();
    });
  }

  kick(): void {
    this.dirty = true;
    this.schedule(0);
  }

  /** Resolves after a step that changed nothing. */
  settle(): Promise<void> {
    if (!this.dirty) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.unsubscribe();
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private schedule(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.closed || (this.timer && this.timerAt <= at)) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.step(), delayMs);
  }

  private step(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let changed = false;
    let wakeAt = Infinity;
    this.inStep = true;
    try {
      for (const controller of this.controllers) {
        const result = syncSafely(controller, now);
        changed ||= result.changed;
        if (result.wakeAt !== undefined) wakeAt = Math.min(wakeAt, result.wakeAt);
      }
    } finally {
      this.inStep = false;
    }
    if (changed) {
      this.dirty = true;
      this.schedule(this.stepMs);
      return;
    }
    this.dirty = false;
    for (const waiter of this.waiters.splice(0)) waiter();
    if (wakeAt !== Infinity) this.schedule(Math.max(0, wakeAt - now));
  }
}

/** A bug in one controller must not crash the test process from a timer callback. */
function syncSafely(controller: Controller, now: number): SyncResult {
  try {
    return controller.sync(now);
  } catch (error) {
    console.error('fake-kube controller failed:', error);
    return { changed: false };
  }
}
