// Polls a patched workload until `kubectl rollout status` would say done or failed, or the job's
// rollout timeout passes. Read errors while following are noted and retried until the deadline: the
// patch is applied, so giving up on one failed GET would misreport the rollout.
import type { ExecutionContext, ExecutionResult } from '../../model/executor.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import type { KubeClient } from '../../kube/kube-client.js';
import { rolloutStatus, type OurRollout, type RolloutStatus } from './rollout-status.js';
import { abortError } from '../../kube/abort-error.js';
import type { Workload } from '../../kube/kube-types.js';
import { labelSelectorString } from './label-selector.js';
import { stuckPods, stuckReason } from './stuck-pods.js';
import { supersededRollout } from './superseded-rollout.js';

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
  /** policy.deleteStuckPods: delete StatefulSet pods stuck on the bad revision (stuck-pods.ts). */
  deleteStuckPods?: boolean;
}

export async function followRollout(options: FollowOptions): Promise<ExecutionResult> {
  const { client, ref, ctx, clock } = options;
  const deadline = options.startedAt + ctx.rolloutTimeoutMs;
  let lastCounts = '';
  let lastError = '';
  let status: RolloutStatus | undefined;
  let last: Workload | undefined;
  const deleted = new Set<string>();
  for (;;) {
    if (ctx.signal.aborted) throw abortError('rollout following interrupted by shutdown');
    try {
      const workload = await client.readWorkload(ref, ctx.signal);
      last = workload;
      // Someone deployed again after our patch: that rollout's outcome is not the rollback's.
      const superseded =
        ref.kind === 'Rollout' ? undefined : supersededRollout(workload, options.ours);
      if (superseded) return { outcome: 'skipped', reason: superseded };
      status = rolloutStatus(ref.kind, workload, options.ours);
      lastError = '';
      const counts = `${status.updated}/${status.desired}/${status.ready}`;
      // Only numbers of the rollout our patch started (observedGeneration caught up) are progress.
      if (!status.stale && counts !== lastCounts) {
        lastCounts = counts;
        ctx.progress({
          event: 'progress',
          message: `${status.updated}/${status.desired} updated, ${status.ready}/${status.desired} ready`,
          data: { updated: status.updated, ready: status.ready, desired: status.desired },
        });
      }
      if (status.failed) return { outcome: 'failed', reason: status.message };
      if (status.done) return { outcome: 'succeeded', reason: status.message };
      if (options.deleteStuckPods && ref.kind === 'StatefulSet')
        await deleteStuck(options, workload, deleted);
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
      const said = status?.message ?? lastError;
      const stuck = ref.kind === 'StatefulSet' && last ? await stuckText(options, last) : '';
      return {
        outcome: 'failed',
        reason: `rollout did not finish within the ${seconds}s deadline${said ? `: ${said}` : ''}${stuck}`,
      };
    }
    await options.sleep(Math.min(options.pollIntervalMs, left), ctx.signal);
  }
}

async function podsOf(o: FollowOptions, sts: Workload) {
  return o.client.listPods(o.ref.namespace, labelSelectorString(sts.spec.selector), o.ctx.signal);
}

/** Deletes each stuck pod once (by uid); a failure is a note, and the deadline still applies. */
async function deleteStuck(o: FollowOptions, sts: Workload, deleted: Set<string>): Promise<void> {
  if ((sts.status?.readyReplicas ?? 0) >= (sts.spec.replicas ?? 1)) return;
  for (const pod of stuckPods(sts, await podsOf(o, sts))) {
    const { name = '', uid = '' } = pod.metadata;
    if (deleted.has(uid)) continue;
    deleted.add(uid);
    try {
      await o.client.deletePod(o.ref.namespace, name, uid, o.ctx.signal);
      o.ctx.progress({
        event: 'note',
        message: `deleted pod ${name}: stuck on the bad revision ${pod.metadata.labels?.['controller-revision-hash'] ?? '?'} and not ready, so the StatefulSet controller recreates it from the rolled-back revision (policy.deleteStuckPods)`,
        data: { pod: name },
      });
    } catch (err) {
      o.ctx.progress({
        event: 'note',
        message: `could not delete stuck pod ${name}: ${(err as Error).message}`,
      });
    }
  }
}

/** The stuck pods to name in a deadline failure (empty when none, or they cannot be listed). */
async function stuckText(o: FollowOptions, sts: Workload): Promise<string> {
  try {
    const stuck = stuckPods(sts, await podsOf(o, sts));
    return stuck.length ? `; ${stuckReason(sts, stuck)}` : '';
  } catch {
    return '';
  }
}
