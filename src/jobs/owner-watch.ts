// The GitOps owners that jobs suspended, kept in view: an index for /status and the gauge, and a
// periodic check that notices when a human turns one back on (Argo CD auto-sync re-enabled,
// Flux annotation removed, HelmRelease resumed). The job records that through its transition,
// which drops the gauge and tells Slack (report-job-change.ts).
import type { Logger } from 'pino';
import type { Executor } from '../model/executor.js';
import type { Metrics } from '../observability/metrics.js';
import { ownerResumed } from './job-transitions.js';
import type { JobStore } from './job-store.js';
import { SuspendedOwners } from './suspended-owners.js';

export interface OwnerWatchOptions {
  store: JobStore;
  executor: Executor | undefined;
  metrics: Pick<Metrics, 'ownersSuspended'>;
  logger: Logger;
  now: () => number;
  intervalMs: number;
  /** Why this replica must not act now (high availability), if so. */
  standby?: () => string | undefined;
}

export class OwnerWatch {
  readonly index = new SuspendedOwners();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(private readonly o: OwnerWatchOptions) {
    o.store.onJobChange(this.index.changed);
  }

  /** After the journal replay: index what the jobs say, then check periodically. */
  start(): void {
    for (const job of this.o.store.state.jobs.values()) this.index.changed(undefined, job);
    this.updateGauge();
    this.timer = setInterval(() => void this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  updateGauge(): void {
    for (const [owner, n] of Object.entries(this.index.counts()))
      this.o.metrics.ownersSuspended.set({ owner }, n);
  }

  /** One pass; returns how many owners were found turned back on. */
  async check(): Promise<number> {
    const executor = this.o.executor;
    if (!executor?.ownerResumed || this.checking || this.o.standby?.()) return 0;
    this.checking = true;
    let resumed = 0;
    try {
      for (const e of this.index.list()) {
        let back: boolean;
        try {
          back = await executor.ownerResumed(e.owner);
        } catch (err) {
          // The cluster cannot say now: ask again on the next pass.
          this.o.logger.warn(
            { jobId: e.jobId, owner: e.key, err: (err as Error).message },
            'could not check a suspended owner',
          );
          continue;
        }
        if (!back) continue;
        resumed += 1;
        await this.o.store
          .update(e.jobId, (j) => ownerResumed(j, e.key, this.o.now()), { keepOnFailure: true })
          .catch(() => undefined);
        this.o.logger.info({ jobId: e.jobId, owner: e.key }, 'suspended owner turned back on');
      }
    } finally {
      this.checking = false;
    }
    return resumed;
  }
}
