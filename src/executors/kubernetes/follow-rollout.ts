// Polls a patched workload until `kubectl rollout status` would say done or failed, or the job's
// rollout timeout passes. Read errors while following are noted and retried until the deadline: the
// patch is applied, so giving up on one failed GET would misreport the rollout.
import type { ExecutionContext, ExecutionResult } from '../../model/executor.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import type { KubeClient } from '../../kube/kube-client.js';
import { rolloutStatus, type OurRollout, type RolloutStatus } from './rollout-status.js';
import { abortError } from '../../kube/abort-error.js';

export interface FollowOptions {
  client: KubeClient;
  ref: WorkloadRef;
  ctx: ExecutionContext;
  /** When the rollout started (ms since epoch): the rollout timeout counts from here. */
  startedAt: number;
  /** The rollout our patch started: conditions from before it never decide the outcome. */
  ours: OurRollout;
  pollIntervalMs: number;
  clock: { now(): number };
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export async function followRollout(options: FollowOptions): Promise<ExecutionResult> {
  const { client, ref, ctx, clock } = options;
  const deadline = options.startedAt + ctx.rolloutTimeoutMs;
  let lastCounts = '';
  let lastError = '';
  let status: RolloutStatus | undefined;
  for (;;) {
    if (ctx.signal.aborted) throw abortError('rollout following interrupted by shutdown');
    try {
      const workload = await client.readWorkload(ref, ctx.signal);
      status = rolloutStatus(ref.kind, workload, options.ours);
      lastError = '';
      const counts = `${status.updated}/${status.desired}/${status.ready}`;
      if (counts !== lastCounts) {
        lastCounts = counts;
        ctx.progress({
          event: 'progress',
          message: `${status.updated}/${status.desired} updated, ${status.ready}/${status.desired} ready`,
          data: { updated: status.updated, ready: status.ready, desired: status.desired },
        });
      }
      if (status.failed) return { outcome: 'failed', reason: status.message };
      if (status.done) return { outcome: 'succeeded', reason: status.message };
    } catch (err) {
      if (ctx.signal.aborted) throw abortError('rollout following interrupted by shutdown');
      const message = (err as Error).message;
      if (message !== lastError) {
        lastError = message;
        ctx.progress({ event: 'note', message: `reading rollout status failed: ${message}` });
      }
    }
    const left = deadline - clock.now();
    if (left <= 0) {
      const seconds = Number((ctx.rolloutTimeoutMs / 1000).toFixed(1));
      const last = status?.message ?? lastError;
      return {
        outcome: 'failed',
        reason: `rollout did not finish within the ${seconds}s deadline${last ? `: ${last}` : ''}`,
      };
    }
    await options.sleep(Math.min(options.pollIntervalMs, left), ctx.signal);
  }
}
