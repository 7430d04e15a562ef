// The parts of an Argo Rollouts `Rollout` (argoproj.io/v1alpha1) the controller reads, and the
// names Argo gives them (argo-rollouts v1.10: pkg/apis/rollouts/v1alpha1/types.go,
// utils/annotations, utils/conditions). Plain wire-format JSON, like kube-types.ts.
import type { Condition, ObjectMeta, PodTemplate, Workload } from '../../../kube/kube-types.js';

export const ROLLOUT_API_VERSION = 'argoproj.io/v1alpha1';
/** The label Argo puts on every ReplicaSet (and its pods) of a Rollout: the template's hash. */
export const ROLLOUT_HASH_LABEL = 'rollouts-pod-template-hash';
export const ROLLOUT_REVISION_ANNOTATION = 'rollout.argoproj.io/revision';
export const ROLLOUT_REVISION_HISTORY_ANNOTATION = 'rollout.argoproj.io/revision-history';
/** On the Rollout: the referenced workload's generation the controller last copied. */
export const WORKLOAD_GENERATION_ANNOTATION = 'rollout.argoproj.io/workload-generation';
/** ReplicaSets of an Experiment: never part of the rollback window. */
export const EXPERIMENT_NAME_ANNOTATION = 'experiment.argoproj.io/name';
/** On a ReplicaSet: the ephemeral pod metadata Argo injected into its template. */
export const EPHEMERAL_METADATA_ANNOTATION = 'rollout.argoproj.io/ephemeral-metadata';

interface PodMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RolloutSpec {
  replicas?: number;
  paused?: boolean;
  selector?: Workload['spec']['selector'];
  template?: PodTemplate;
  workloadRef?: { apiVersion?: string; kind?: string; name?: string; scaleDown?: string };
  rollbackWindow?: { revisions?: number };
  strategy?: {
    canary?: {
      steps?: unknown[];
      trafficRouting?: unknown;
    };
    blueGreen?: { activeService?: string; previewService?: string };
  };
}

export interface RolloutStatus {
  /** A string: the numeric generation the controller has observed (older versions: a hash). */
  observedGeneration?: string;
  workloadObservedGeneration?: string;
  currentPodHash?: string;
  stableRS?: string;
  abort?: boolean;
  abortedAt?: string;
  promoteFull?: boolean;
  controllerPause?: boolean;
  pauseConditions?: Array<{ reason?: string; startTime?: string }>;
  phase?: string;
  message?: string;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  currentStepIndex?: number;
  blueGreen?: { activeSelector?: string; previewSelector?: string };
  canary?: { weights?: { canary?: { weight?: number; podTemplateHash?: string } } };
  conditions?: Condition[];
}

export interface ArgoRollout {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: RolloutSpec;
  status?: RolloutStatus;
}

/** The Rollout as the common Workload shape (its template may be absent: workloadRef). */
export function asRollout(workload: Workload): ArgoRollout {
  return workload as unknown as ArgoRollout;
}

/** Argo's own rule (utils/rollout GetRolloutPhase): the status describes this generation. */
export function generationObserved(rollout: ArgoRollout): boolean {
  const observed = rollout.status?.observedGeneration;
  if (observed === undefined || !/^\d+$/.test(observed)) return false;
  return Number(observed) >= (rollout.metadata.generation ?? 0);
}

/** For a workloadRef Rollout: the controller has copied the referenced template it announces. */
export function workloadGenerationObserved(rollout: ArgoRollout): boolean {
  const announced = rollout.metadata.annotations?.[WORKLOAD_GENERATION_ANNOTATION];
  if (announced === undefined) return false;
  return rollout.status?.workloadObservedGeneration === announced;
}

/** Updating: the desired template is not the stable one yet (utils/rollout IsFullyPromoted). */
export function inFlight(rollout: ArgoRollout): boolean {
  const s = rollout.status ?? {};
  return s.stableRS !== undefined && s.currentPodHash !== s.stableRS;
}

export function strategyOf(rollout: ArgoRollout): 'canary' | 'blueGreen' {
  return rollout.spec.strategy?.blueGreen ? 'blueGreen' : 'canary';
}

export function condition(rollout: ArgoRollout, type: string): Condition | undefined {
  return rollout.status?.conditions?.find((c) => c.type === type);
}

/**
 * What Argo injected into a ReplicaSet's pod template but never writes to the Rollout's
 * (ephemeral canary/stable metadata, recorded on the ReplicaSet: utils/replicaset
 * SyncReplicaSetEphemeralPodMetadata). A template copied back from the ReplicaSet leaves these
 * out, or Argo would see a new template instead of the old ReplicaSet.
 */
export function injectedMetadata(rsAnnotations: Record<string, string> | undefined): {
  labels: string[];
  annotations: string[];
} {
  const raw = rsAnnotations?.[EPHEMERAL_METADATA_ANNOTATION];
  if (!raw) return { labels: [], annotations: [] };
  try {
    const v = JSON.parse(raw) as PodMetadata;
    return { labels: Object.keys(v.labels ?? {}), annotations: Object.keys(v.annotations ?? {}) };
  } catch {
    return { labels: [], annotations: [] };
  }
}
