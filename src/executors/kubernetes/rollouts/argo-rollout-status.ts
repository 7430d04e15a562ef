// Following a Rollout after our request, from its own status (Argo's GetRolloutPhase: phase and
// message count once status.observedGeneration caught up with metadata.generation):
// - abort: done once the controller has taken it (status.abortedAt) and traffic and scale are on
//   the stable ReplicaSet: blue-green's active selector, the canary's traffic weight (with traffic
//   routing) or its replicas (without); the phase then stays Degraded ("RolloutAborted") by
//   design, which is the expected end, not a failure;
// - undo: done once the target ReplicaSet is both current and stable and the phase is Healthy;
//   failed on a ProgressDeadlineExceeded or an abort that came after our patch (a condition left
//   from the bad revision never decides it), or when the spec changed after our patch.
import type { Workload } from '../../../kube/kube-types.js';
import { afterOurPatch, type OurRollout, type RolloutStatus } from '../rollout-status.js';
import {
  WORKLOAD_GENERATION_ANNOTATION,
  asRollout,
  condition,
  generationObserved,
  strategyOf,
  type ArgoRollout,
} from './argo-rollout.js';

/** Someone changed the spec after our patch (annotations do not move a generation). */
export function movedOn(generation: number | undefined, ours: number | undefined): boolean {
  return ours !== undefined && generation !== undefined && generation > ours;
}

/** What the controller has not taken yet of our request (undefined: its status is about it). */
export function controllerBehind(rollout: ArgoRollout, ours: OurRollout): string | undefined {
  const s = rollout.status ?? {};
  if (
    !generationObserved(rollout) ||
    (ours.generation ?? 0) > Number(s.observedGeneration ?? NaN)
  ) {
    return 'waiting for the Argo Rollouts controller to observe the new spec';
  }
  const wanted = ours.argo?.workloadGeneration;
  if (wanted !== undefined) {
    const taken = Number(rollout.metadata.annotations?.[WORKLOAD_GENERATION_ANNOTATION] ?? NaN);
    const seen = Number(s.workloadObservedGeneration ?? NaN);
    if (!(taken >= wanted && seen >= wanted)) {
      return 'waiting for the Argo Rollouts controller to take the Deployment template';
    }
  }
  return undefined;
}

export function argoRolloutStatus(workload: Workload, ours: OurRollout = {}): RolloutStatus {
  const rollout = asRollout(workload);
  const s = rollout.status ?? {};
  const desired = rollout.spec.replicas ?? 1;
  const counts = { updated: s.updatedReplicas ?? 0, ready: s.availableReplicas ?? 0, desired };
  const waiting = (message: string) => ({ done: false, failed: false, message, ...counts });
  const failed = (message: string) => ({ done: false, failed: true, message, ...counts });
  const argo = ours.argo;

  const behind = controllerBehind(rollout, ours);
  if (behind) return waiting(behind);
  const progressing = condition(rollout, 'Progressing');

  if (argo?.action === 'abort') {
    if (s.stableRS !== argo.targetHash || s.currentPodHash !== argo.badHash) {
      return failed(
        `the Rollout changed while aborting: stable ${s.stableRS ?? '-'}, current ${s.currentPodHash ?? '-'} (expected stable ${argo.targetHash})`,
      );
    }
    if (s.abort !== true || !s.abortedAt) {
      return waiting('waiting for the Argo Rollouts controller to take the abort');
    }
    const onStable =
      strategyOf(rollout) === 'blueGreen'
        ? s.blueGreen?.activeSelector === argo.targetHash
        : rollout.spec.strategy?.canary?.trafficRouting
          ? (s.canary?.weights?.canary?.weight ?? 0) === 0
          : counts.updated === 0;
    if (!onStable) return waiting(`aborting: traffic is still partly on ${argo.badHash}`);
    if (counts.ready < desired) {
      return waiting(`aborted: ${counts.ready} of ${desired} stable replicas available`);
    }
    return {
      done: true,
      failed: false,
      message: `aborted: traffic and ${desired} replicas back on the stable ReplicaSet ${argo.targetHash} (phase ${s.phase ?? '?'}: the template still names the aborted revision)`,
      ...counts,
    };
  }

  if (
    progressing &&
    (progressing.reason === 'ProgressDeadlineExceeded' ||
      progressing.reason === 'RolloutAborted') &&
    afterOurPatch(progressing, ours)
  ) {
    return failed(
      `${progressing.reason}: ${progressing.message ?? 'the rollback did not progress'}`,
    );
  }
  if (movedOn(rollout.metadata.generation, ours.generation)) {
    return failed(
      `the Rollout moved on after the rollback: generation ${rollout.metadata.generation ?? '?'} is newer than ours (${ours.generation ?? '?'})`,
    );
  }
  if (s.stableRS !== s.currentPodHash) {
    return waiting(
      `${s.phase ?? 'Progressing'}: ${s.message || `${counts.updated} of ${desired} replicas updated, not promoted yet`}`,
    );
  }
  if (s.phase !== 'Healthy') {
    return waiting(
      `${s.phase ?? 'Progressing'}: ${s.message || 'waiting for the Rollout to be healthy'}`,
    );
  }
  return {
    done: true,
    failed: false,
    message: `rollout complete: ${counts.ready} replicas of ${s.stableRS ?? '?'} stable and healthy`,
    ...counts,
  };
}
