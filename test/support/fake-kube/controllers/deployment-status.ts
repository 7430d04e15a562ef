// A Deployment's status as the upstream controller computes it after each sync: replica counts
// summed over its ReplicaSets, the Available condition from maxUnavailable, and the Progressing
// condition that `kubectl rollout status` reads (NewReplicaSetCreated, ReplicaSetUpdated on any
// progress, NewReplicaSetAvailable when complete, ProgressDeadlineExceeded once no progress was
// seen for spec.progressDeadlineSeconds; DeploymentPaused/DeploymentResumed around a pause).
import { timestamp } from '../registry.js';
import type { Condition, Workload } from '../types.js';
import { getCondition, setCondition, setCount } from './common.js';

type NewCondition = Omit<Condition, 'lastTransitionTime' | 'lastUpdateTime'>;

const progressing = (
  status: Condition['status'],
  reason: string,
  message: string,
): NewCondition => ({
  type: 'Progressing',
  status,
  reason,
  message,
});

const conditions = {
  available: {
    type: 'Available',
    status: 'True',
    reason: 'MinimumReplicasAvailable',
    message: 'Deployment has minimum availability.',
  } as NewCondition,
  unavailable: {
    type: 'Available',
    status: 'False',
    reason: 'MinimumReplicasUnavailable',
    message: 'Deployment does not have minimum availability.',
  } as NewCondition,
  paused: progressing('Unknown', 'DeploymentPaused', 'Deployment is paused'),
  resumed: progressing('Unknown', 'DeploymentResumed', 'Deployment is resumed'),
  created: (rs: string) =>
    progressing('True', 'NewReplicaSetCreated', `Created new replica set "${rs}"`),
  updated: (rs: string) =>
    progressing('True', 'ReplicaSetUpdated', `ReplicaSet "${rs}" is progressing.`),
  complete: (rs: string) =>
    progressing(
      'True',
      'NewReplicaSetAvailable',
      `ReplicaSet "${rs}" has successfully progressed.`,
    ),
  timedOut: (rs: string) =>
    progressing(
      'False',
      'ProgressDeadlineExceeded',
      `ReplicaSet "${rs}" has timed out progressing.`,
    ),
};

export interface StatusInput {
  /** The Deployment as stored; its status is the previous one. */
  deployment: Workload;
  newRS: Workload | undefined;
  owned: Workload[];
  maxUnavailable: number;
  /** The new ReplicaSet was created in this sync. */
  created: boolean;
  now: number;
  /** When progress was last seen (ms), precise where the condition keeps only seconds. */
  lastProgress: number | undefined;
  deadlineScale: number;
}

export interface StatusResult {
  status: Record<string, unknown>;
  complete: boolean;
  /** Set when this sync counts as progress. */
  progressedAt?: number;
  /** When the progress deadline would pass, if the rollout is still waiting for it. */
  wakeAt?: number;
}

export function deploymentStatus(input: StatusInput): StatusResult {
  const { deployment, newRS, owned, now } = input;
  const before = deployment.status ?? {};
  const replicas = deployment.spec.replicas ?? 1;
  const sum = (field: string) =>
    owned.reduce((total, rs) => total + Number(rs.status?.[field] ?? 0), 0);
  const specTotal = owned.reduce((total, rs) => total + (rs.spec.replicas ?? 0), 0);
  const status: Record<string, unknown> = { observedGeneration: deployment.metadata.generation };
  setCount(status, 'replicas', sum('replicas'));
  setCount(status, 'updatedReplicas', Number(newRS?.status?.replicas ?? 0));
  setCount(status, 'readyReplicas', sum('readyReplicas'));
  setCount(status, 'availableReplicas', sum('availableReplicas'));
  setCount(status, 'unavailableReplicas', Math.max(0, specTotal - sum('availableReplicas')));
  if (before.collisionCount !== undefined) status.collisionCount = before.collisionCount;
  status.conditions = structuredClone(before.conditions ?? []);
  const next = { ...deployment, status } as Workload;
  const time = timestamp(new Date(now));
  const set = (condition: NewCondition) => setCondition(next, condition, time);
  const count = (s: Record<string, unknown>, field: string) => Number(s[field] ?? 0);

  const available = count(status, 'availableReplicas') >= replicas - input.maxUnavailable;
  const availableNow = available ? conditions.available : conditions.unavailable;
  const availableBefore = getCondition(next, 'Available');
  if (
    availableBefore?.status !== availableNow.status ||
    availableBefore.reason !== availableNow.reason
  ) {
    set(availableNow);
  }

  const result: StatusResult = { status, complete: false };
  const current = getCondition(next, 'Progressing');
  const rs = newRS?.metadata.name ?? '';
  if (deployment.spec.paused) {
    if (current?.reason !== 'DeploymentPaused') set(conditions.paused);
    return result;
  }
  if (current?.reason === 'DeploymentPaused') {
    set(conditions.resumed);
    return { ...result, progressedAt: now };
  }
  if (!newRS) return result;
  if (input.created) {
    set(conditions.created(rs));
    return { ...result, progressedAt: now };
  }
  result.complete =
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas;
  const progressed =
    count(status, 'updatedReplicas') > count(before, 'updatedReplicas') ||
    count(status, 'replicas') - count(status, 'updatedReplicas') <
      count(before, 'replicas') - count(before, 'updatedReplicas') ||
    count(status, 'readyReplicas') > count(before, 'readyReplicas') ||
    count(status, 'availableReplicas') > count(before, 'availableReplicas');
  if (result.complete) {
    if (current?.reason !== 'NewReplicaSetAvailable') set(conditions.complete(rs));
  } else if (progressed) {
    set(conditions.updated(rs));
    result.progressedAt = now;
  } else if (
    current &&
    !['NewReplicaSetAvailable', 'ProgressDeadlineExceeded'].includes(current.reason)
  ) {
    const since =
      input.lastProgress ?? Date.parse(current.lastUpdateTime ?? current.lastTransitionTime);
    const deadline =
      since + (deployment.spec.progressDeadlineSeconds ?? 600) * 1000 * input.deadlineScale;
    if (now >= deadline) set(conditions.timedOut(rs));
    else result.wakeAt = deadline;
  }
  return result;
}
