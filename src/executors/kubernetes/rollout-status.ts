// Rollout progress by the rules of `kubectl rollout status` for each kind (kubectl's
// polymorphichelpers status viewers), so "succeeded" here means what it means to an operator
// watching kubectl. Messages are ours.
import type { Workload, WorkloadKind } from '../../kube/kube-types.js';

export interface RolloutStatus {
  done: boolean;
  failed: boolean;
  message: string;
  updated: number;
  ready: number;
  desired: number;
}

export function rolloutStatus(kind: WorkloadKind, workload: Workload): RolloutStatus {
  if (kind === 'Deployment') return deploymentStatus(workload);
  if (kind === 'StatefulSet') return statefulSetStatus(workload);
  return daemonSetStatus(workload);
}

function deploymentStatus(d: Workload): RolloutStatus {
  const s = d.status ?? {};
  const desired = d.spec.replicas;
  const counts = {
    updated: s.updatedReplicas ?? 0,
    ready: s.availableReplicas ?? 0,
    desired: desired ?? s.replicas ?? 0,
  };
  const waiting = (message: string) => ({ done: false, failed: false, message, ...counts });
  // Status fields describe an older spec until the controller has observed this generation.
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) {
    return waiting('waiting for the deployment controller to observe the new spec');
  }
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
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
    // kubectl answers this with an error: nothing rolls until pods are deleted by hand.
    return {
      done: true,
      failed: true,
      message: `rollout status is only available for the RollingUpdate strategy (this StatefulSet uses ${strategy.type}: pods change only when deleted)`,
      ...counts,
    };
  }
  if (!s.observedGeneration || (sts.metadata.generation ?? 0) > s.observedGeneration) {
    return waiting('waiting for the statefulset controller to observe the new spec');
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
    return {
      done: true,
      failed: true,
      message: `rollout status is only available for the RollingUpdate strategy (this DaemonSet uses ${strategy}: pods change only when deleted)`,
      ...counts,
    };
  }
  if ((ds.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) {
    return waiting('waiting for the daemonset controller to observe the new spec');
  }
  if (counts.updated < desired) {
    return waiting(`${counts.updated} of ${desired} pods updated`);
  }
  if (counts.ready < desired) {
    return waiting(`${counts.ready} of ${desired} updated pods available`);
  }
  return { done: true, failed: false, message: 'rollout complete', ...counts };
}
