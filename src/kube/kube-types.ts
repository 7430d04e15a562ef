// Minimal wire-format (JSON) shapes of the objects the executor reads. The client layer hands
// out plain JSON, so the pure modules can be tested with literal fixtures.
import type { WorkloadKind } from '../config/schema.js';

export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
}

/** Server-side field ownership: `time` is when this manager last changed a field it owns. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  time?: string;
  fieldsV1?: Record<string, unknown>;
}

export interface Container {
  name: string;
  image?: string;
  [key: string]: unknown;
}

export interface PodTemplate {
  metadata?: ObjectMeta & Record<string, unknown>;
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    [key: string]: unknown;
  };
}

export interface Condition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface Workload {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    replicas?: number;
    paused?: boolean;
    selector?: LabelSelector;
    template: PodTemplate;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
    [key: string]: unknown;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    conditions?: Condition[];
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberReady?: number;
    [key: string]: unknown;
  };
}

/** The little of a Pod the executor reads (a stuck StatefulSet rollout). */
export interface Pod {
  metadata: ObjectMeta & { deletionTimestamp?: string };
  status?: { conditions?: Condition[] };
}

export interface ReplicaSet {
  metadata: ObjectMeta;
  spec?: { template?: PodTemplate; [key: string]: unknown };
}

export interface ControllerRevision {
  metadata: ObjectMeta;
  revision: number;
  data?: { spec?: { template?: PodTemplate & { $patch?: string } } } & Record<string, unknown>;
}

/** One entry of a workload's rollout history, whatever object kind backs it. */
export interface RevisionEntry {
  revision: number;
  /** Name of the ReplicaSet or ControllerRevision. */
  name: string;
  template: PodTemplate;
  createdAt?: string;
  /**
   * Latest managedFields time on the backing object's main resource (not status): for a
   * ControllerRevision (immutable but for `.revision`) when its number was last set.
   */
  changedAt?: string;
  /** Revisions this object held before (Deployment `revision-history`), oldest first. */
  previousRevisions: number[];
  /** The backing object's annotations (a ReplicaSet's are copied back on Deployment undo). */
  annotations?: Record<string, string>;
  /** A ControllerRevision's `data`: the strategic merge patch that restores it. */
  data?: Record<string, unknown>;
}

export interface RevisionHistory {
  /** Revision number the workload is at now (0 when unknown). */
  currentRevision: number;
  current?: RevisionEntry;
  /** Newest revision older than the current one: what `rollout undo` goes back to. */
  previous?: RevisionEntry;
  /** All owned revisions, oldest first. */
  entries: RevisionEntry[];
  /**
   * Why the workload is in flux (a change its controller has not processed, contract.md "Kubernetes rollback semantics"): then there
   * is no current revision and nothing is rolled back.
   */
  inFlux?: string;
}

export type { WorkloadKind };

/** A coordination.k8s.io/v1 Lease as the API server sends it (times are MicroTime strings). */
export interface WireLease {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Where a pod can be reached, and whether it is going away. */
export interface PodAddress {
  deleting: boolean;
  ips: string[];
}
