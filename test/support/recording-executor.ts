// An executor for tests of the queue and the API: records every call, and lets a test choose
// the outcome, hold a job at a gate, or fail. Real executors are tested against real peers.
import type {
  ExecutionContext,
  ExecutionResult,
  Executor,
  JobPatch,
  Plan,
} from '../../src/model/executor.js';
import type { Job } from '../../src/model/job.js';

export interface RecordedCall {
  method: 'pin' | 'plan' | 'execute' | 'recover';
  jobId: string;
  targetKey: string;
  at: number;
}

export class RecordingExecutor implements Executor {
  readonly calls: RecordedCall[] = [];
  outcome: ExecutionResult = { outcome: 'succeeded', reason: 'rolled back (recording executor)' };
  delayMs = 0;
  /** When set, execute waits for it (or for the abort signal). */
  gate: Promise<void> | undefined;
  pinRevision: number | undefined = 7;
  /** Like the Kubernetes executor: execute() pins from its own read (see Executor). */
  pinsOnExecute = false;
  available = true;

  constructor(readonly name: 'kubernetes' | 'script' = 'kubernetes') {}

  executed(): string[] {
    return this.calls
      .filter((c) => c.method === 'execute' || c.method === 'recover')
      .map((c) => c.jobId);
  }

  private record(method: RecordedCall['method'], job: Job): void {
    this.calls.push({ method, jobId: job.id, targetKey: job.targetKey, at: Date.now() });
  }

  async availability() {
    return this.available
      ? { available: true }
      : { available: false, reason: 'test executor unavailable' };
  }

  async pin(job: Job): Promise<JobPatch> {
    this.record('pin', job);
    return this.pinRevision === undefined ? {} : { fromRevision: this.pinRevision };
  }

  async plan(job: Job): Promise<Plan> {
    this.record('plan', job);
    return {
      action: 'rollback',
      reason: 'would roll back (recording executor)',
      fromRevision: 7,
      toRevision: 6,
      changes: { images: [{ container: 'app', from: 'app:v7', to: 'app:v6' }], fields: [] },
      serverDryRun: false,
    };
  }

  async execute(job: Job, ctx: ExecutionContext): Promise<ExecutionResult> {
    this.record('execute', job);
    return this.work(ctx);
  }

  async recover(job: Job, ctx: ExecutionContext): Promise<ExecutionResult> {
    this.record('recover', job);
    return this.work(ctx);
  }

  private async work(ctx: ExecutionContext): Promise<ExecutionResult> {
    await ctx.update({ actedAt: new Date().toISOString(), patched: true });
    ctx.progress({
      event: 'progress',
      message: '1/1 updated',
      data: { updated: 1, ready: 1, desired: 1 },
    });
    if (this.gate) {
      const aborted = new Promise<never>((_, reject) => {
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
      await Promise.race([this.gate, aborted]);
    }
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    return this.outcome;
  }
}
