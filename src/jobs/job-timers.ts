// Approval expiry and the verification window: timers armed from a job's fields, so a replayed
// journal re-arms exactly what was pending. `setTimer` is injected: tests drive time by hand.
import type { Logger } from 'pino';
import type { Job } from '../model/job.js';
import * as step from './job-transitions.js';
import type { JobStore } from './job-store.js';

export interface TimerHandle {
  cancel(): void;
}
/** Calls `fn` once after `ms` (never keeping the process alive for it). */
export type SetTimer = (fn: () => void, ms: number) => TimerHandle;

export const systemSetTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

export interface JobTimersOptions {
  store: JobStore;
  now: () => number;
  verificationWindowMs: number;
  logger: Logger;
  setTimer?: SetTimer;
  /**
   * Why this replica may not act now (HA follower), if so. A timer that comes due then is kept
   * for `activated()`: a replica that handed its leadership over must not expire or judge a job
   * the new leader now holds (and edit the same Slack message behind its back).
   */
  standby?: () => string | undefined;
}

export class JobTimers {
  private readonly timers = new Set<TimerHandle>();
  private readonly due: Array<() => Promise<void>> = [];
  private readonly setTimer: SetTimer;
  private stopped = false;

  constructor(private readonly o: JobTimersOptions) {
    this.setTimer = o.setTimer ?? systemSetTimer;
  }

  /** Arms whatever the job waits for: an approval deadline or the end of its verification. */
  arm(job: Job): void {
    if (job.state === 'awaiting_approval' && job.approval)
      this.at(Date.parse(job.approval.expiresAt), () => this.expire(job.id));
    if (job.verdict === 'pending' && job.finishedAt)
      this.at(Date.parse(job.finishedAt) + this.o.verificationWindowMs, () =>
        this.verificationEnded(job.id),
      );
  }

  /** A job listener: arm on entering a waiting state. */
  readonly changed = (before: Job | undefined, after: Job): void => {
    const held = after.state === 'awaiting_approval' && before?.state !== after.state;
    const verifying = after.verdict === 'pending' && before?.verdict !== 'pending';
    if (held || verifying) this.arm(after);
  };

  /** An approval deadline passed (or was found passed): the job expires. */
  async expire(id: string): Promise<void> {
    const job = this.o.store.get(id);
    if (job?.state !== 'awaiting_approval') return;
    await this.o.store.update(id, (j) => step.expire(j, this.o.now()), { keepOnFailure: true });
  }

  /** This replica leads again: what came due while it stood by runs now (each re-checks its job). */
  activated(): void {
    for (const fn of this.due.splice(0)) this.run(fn);
  }

  stop(): void {
    this.stopped = true;
    this.due.length = 0;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  private async verificationEnded(id: string): Promise<void> {
    if (this.o.store.get(id)?.verdict !== 'pending') return;
    const windowSeconds = Math.round(this.o.verificationWindowMs / 1000);
    await this.o.store.update(id, (j) => step.notRecovered(j, windowSeconds, this.o.now()), {
      keepOnFailure: true,
    });
  }

  private at(atMs: number, fn: () => Promise<void>): void {
    if (this.stopped) return;
    const handle: TimerHandle = this.setTimer(
      () => {
        this.timers.delete(handle);
        if (this.o.standby?.()) this.due.push(fn);
        else this.run(fn);
      },
      Math.max(0, atMs - this.o.now()),
    );
    this.timers.add(handle);
  }

  private run(fn: () => Promise<void>): void {
    fn().catch((err: unknown) => this.o.logger.error({ err }, 'job timer failed'));
  }
}
