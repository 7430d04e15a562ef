// Rollout progress by the rules of `kubectl rollout status` for each kind (kubectl's
// polymorphichelpers status viewers), so "succeeded" here means what it means to an operator
// watching kubectl. Messages are ours.
import type { Condition, Workload, WorkloadKind } from '../../kube/kube-types.js';
import type { Job } from '../../model/job.js';
import { argoRolloutStatus } from './rollouts/argo-rollout-status.js';

/**
 * The rollout a patch of ours started (contract.md "Kubernetes rollback semantics": follow it, a condition from before it never decides
 * the outcome): the generation the patch produced, the server's time stamp on it (managedFields,
 * 1 s precision) and the Progressing condition seen on the object just before patching.
 */
export interface OurRollout {
  generation?: number;
  patchedAt?: string;
  /** The pod template our patch produced (templateDigest); see superseded-rollout.ts. */
  templateDigest?: string;
  before?: Pick<Condition, 'reason' | 'lastUpdateTime' | 'lastTransitionTime'>;
  /** An Argo Rollouts Rollout: the action taken and where it should end (Job['rollout']). */
  argo?: NonNullable<Job['rollout']>['argo'];
}

export interface RolloutStatus {
  done: boolean;
  failed: boolean;
  /**
   * The controller has not observed the spec (or our patch's generation) yet: the numbers still
   * describe the previous rollout, so they are not reported as this rollout's progress.
   */
  stale?: true;
  message: string;
  updated: number;
  ready: number;
  desired: number;
}

export function rolloutStatus(
  kind: WorkloadKind,
  workload: Workload,
  ours: OurRollout = {},
): RolloutStatus {
  if (kind === 'Deployment') return deploymentStatus(workload, ours);
  if (kind === 'Rollout') return argoRolloutStatus(workload, ours);
  if (kind === 'StatefulSet') return statefulSetStatus(workload);
  return daemonSetStatus(workload);
}

function deploymentStatus(d: Workload, ours: OurRollout): RolloutStatus {
  const s = d.status ?? {};
  const desired = d.spec.replicas;
  const counts = {
    updated: s.updatedReplicas ?? 0,
    ready: s.availableReplicas ?? 0,
    desired: desired ?? s.replicas ?? 0,
  };
  const waiting = (message: string) => ({ done: false, failed: false, message, ...counts });
  // Status fields describe an older spec until the controller has observed this generation.
  const observed = s.observedGeneration ?? 0;
  if ((d.metadata.generation ?? 0) > observed || (ours.generation ?? 0) > observed) {
    return {
      ...waiting('waiting for the deployment controller to observe the new spec'),
      stale: true,
    };
  }
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded' && !afterOurPatch(progressing, ours)) {
    // The controller keeps the bad rollout's timeout until it sees progress in replica counts,
    // and its first status after our patch may show none yet: not our rollout's verdict.
    return waiting(
      'the progress deadline condition predates the rollback; waiting for the deployment controller to see progress',
    );
  }
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      done: false,
      failed: true,
      message: `ProgressDeadlineExceeded: ${progressing.message ?? 'the rollout exceeded its progress deadline'}`,
      ...counts,
    };
  }
  if (desired !== undefined && counts.updated < desired) {
    return waiting(`${counts.updated} of ${desired} replicas updated`);
  }
  const total = s.replicas ?? 0;
  if (total > counts.updated) {
    return waiting(`${total - counts.updated} old replicas pending termination`);
  }
  if (counts.ready < counts.updated) {
    return waiting(`${counts.ready} of ${counts.updated} updated replicas available`);
  }
  return { done: true, failed: false, message: 'rollout complete', ...counts };
}

/** Whether a condition was set after our patch: not the one seen before it, and stamped later. */
export function afterOurPatch(c: Condition, ours: OurRollout): boolean {
  const stamp = c.lastUpdateTime ?? c.lastTransitionTime;
  const b = ours.before;
  if (
    b &&
    b.reason === c.reason &&
    b.lastUpdateTime === c.lastUpdateTime &&
    b.lastTransitionTime === c.lastTransitionTime
  ) {
    return false;
  }
  if (ours.patchedAt === undefined || stamp === undefined) return true;
  // Both are whole seconds on the wire; the same second counts as before (a new deadline needs
  // at least progressDeadlineSeconds ≥ 1 after our patch, and the job's deadline still applies).
  return Math.floor(Date.parse(stamp) / 1000) > Math.floor(Date.parse(ours.patchedAt) / 1000);
}

function statefulSetStatus(sts: Workload): RolloutStatus {
  const s = sts.status ?? {};
  const replicas = sts.spec.replicas;
  const counts = {
    updated: s.updatedReplicas ?? 0,
    ready: s.readyReplicas ?? 0,
    desired: replicas ?? s.replicas ?? 0,
  };
  const waiting = (message: string) => ({ done: false, failed: false, message, ...counts });
  const strategy = sts.spec.updateStrategy;
  if (strategy?.type !== undefined && strategy.type !== 'RollingUpdate') {
    // Nothing rolls until pods are deleted by hand: the patched template is the whole job (contract.md "Kubernetes rollback semantics").
    return onDelete('StatefulSet', strategy.type, counts);
  }
  if (!s.observedGeneration || (sts.metadata.generation ?? 0) > s.observedGeneration) {
    return {
      ...waiting('waiting for the statefulset controller to observe the new spec'),
      stale: true,
    };
  }
  if (replicas !== undefined && counts.ready < replicas) {
    return waiting(`waiting for ${replicas - counts.ready} pods to be ready`);
  }
  const partition = strategy?.rollingUpdate?.partition;
  if (strategy?.rollingUpdate) {
    // kubectl reports a partitioned rollout done once the pods above the partition are updated.
    if (
      replicas !== undefined &&
      partition !== undefined &&
      counts.updated < replicas - partition
    ) {
      return waiting(
        `partitioned rollout: ${counts.updated} of ${replicas - partition} pods updated`,
      );
    }
    return {
      done: true,
      failed: false,
      message: `partitioned rollout complete: ${counts.updated} pods updated`,
      ...counts,
    };
  }
  if (s.updateRevision !== s.currentRevision) {
    return waiting(`${counts.updated} pods at revision ${s.updateRevision ?? '?'}`);
  }
  return {
    done: true,
    failed: false,
    message: `rolling update complete: ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision ?? '?'}`,
    ...counts,
  };
}

function daemonSetStatus(ds: Workload): RolloutStatus {
  const s = ds.status ?? {};
  const desired = s.desiredNumberScheduled ?? 0;
  const counts = {
    updated: s.updatedNumberScheduled ?? 0,
    ready: s.numberAvailable ?? 0,
    desired,
  };
  const waiting = (message: string) => ({ done: false, failed: false, message, ...counts });
  const strategy = ds.spec.updateStrategy?.type;
  if (strategy !== undefined && strategy !== 'RollingUpdate') {
    return onDelete('DaemonSet', strategy, counts);
  }
  if ((ds.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) {
    return {
      ...waiting('waiting for the daemonset controller to observe the new spec'),
      stale: true,
    };
  }
  if (counts.updated < desired) {
    return waiting(`${counts.updated} of ${desired} pods updated`);
  }
  if (counts.ready < desired) {
    return waiting(`${counts.ready} of ${desired} updated pods available`);
  }
  return { done: true, failed: false, message: 'rollout complete', ...counts };
}

/** The note for a workload that is not rolled by its controller (contract.md "Kubernetes rollback semantics": the job succeeds with it). */
export function onDeleteNote(kind: WorkloadKind, strategy: string): string {
  return `the ${kind} uses updateStrategy ${strategy}: the template is patched, and pods change only when they are deleted (delete them to roll the change out)`;
}

function onDelete(
  kind: WorkloadKind,
  strategy: string,
  counts: { updated: number; ready: number; desired: number },
): RolloutStatus {
  return { done: true, failed: false, message: onDeleteNote(kind, strategy), ...counts };
}
