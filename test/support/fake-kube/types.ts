// Shapes shared by the fake API server's parts. Objects are plain JSON; the interfaces below
// name only the fields the fake itself reads, everything else passes through untouched.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface PodTemplate {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Array<{ name: string; image: string }>; [key: string]: unknown };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime: string;
}

/** Deployment, ReplicaSet, StatefulSet and DaemonSet after defaulting and validation. */
export interface Workload extends KubeObject {
  metadata: ObjectMeta & { generation: number };
  spec: {
    replicas?: number;
    selector: LabelSelectorSpec;
    template: PodTemplate;
    paused?: boolean;
    progressDeadlineSeconds?: number;
    revisionHistoryLimit?: number;
    strategy?: {
      type: string;
      rollingUpdate?: { maxSurge: number | string; maxUnavailable: number | string };
    };
    updateStrategy?: {
      type: string;
      rollingUpdate?: { partition?: number; maxUnavailable?: number | string };
    };
    [key: string]: unknown;
  };
  status?: Record<string, unknown> & { conditions?: Condition[] };
}

export interface ControllerRevision extends KubeObject {
  data: JsonObject;
  revision: number;
}

/** An error answered as a `kind: Status` body. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface FakeKubeOptions {
  /** Simulated controllers: delay between rollout steps (ms). Default 20. */
  rolloutStepMs?: number;
  /**
   * Multiplier applied to spec.progressDeadlineSeconds (default 1): 0.01 turns the default 600 s
   * deadline into 6 s. Small real values such as `progressDeadlineSeconds: 1` work too.
   */
  progressDeadlineScale?: number;
}

export interface FaultRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Matched against the request path without the query string (any when absent). */
  path?: RegExp;
  /** Match only server-side dry runs (`true`) or only real requests (`false`); any when absent. */
  dryRun?: boolean;
  /** Answer with this status as a `kind: Status` body (or `body` when given). */
  status?: number;
  /** Wait this long first; with no `status` and no `dropConnection` the request then proceeds. */
  delayMs?: number;
  /**
   * Hold the request until the client gives up on it (closes the connection: its own timeout),
   * then proceed: a response too slow for the client however fast or busy the machine is.
   */
  untilClientGone?: boolean;
  /** How many requests the rule applies to. Default 1; Infinity for all. */
  times?: number;
  body?: unknown;
  /** Destroy the socket without answering. */
  dropConnection?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadOptions {
  image: string;
  /** Replicas; for a DaemonSet, the number of simulated nodes. Default 1. */
  replicas?: number;
  containers?: Array<{ name: string; image: string }>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  /** Deployment only. */
  progressDeadlineSeconds?: number;
  /** Deployment only: create it paused. */
  paused?: boolean;
}

export interface FakeKube {
  /** http://127.0.0.1:<port> */
  url: string;
  /** A temp kubeconfig (insecure-skip-tls-verify, bearer token, current-context set). */
  kubeconfigPath: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  createDeployment(ns: string, name: string, opts: WorkloadOptions): Promise<object>;
  createStatefulSet(ns: string, name: string, opts: WorkloadOptions): Promise<object>;
  createDaemonSet(ns: string, name: string, opts: WorkloadOptions): Promise<object>;
  /** Like `kubectl set image`: a new template, so a new revision. All containers when none named. */
  setImage(
    kind: WorkloadKind,
    ns: string,
    name: string,
    image: string,
    container?: string,
  ): Promise<void>;
  /** Deep copy of the stored object. Kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision, Event, Lease, Namespace. */

  get(kind: string, ns: string, name: string): any;

  list(kind: string, ns?: string): any[];
  /**
   * Resolves when the simulated controllers have nothing left to do: every rollout is complete,
   * paused, or stuck. A stuck Deployment only waiting for its progress deadline counts as
   * settled; use `waitFor` to wait for ProgressDeadlineExceeded.
   */
  settle(): Promise<void>;
  /** Resolves once `predicate(get(kind, ns, name))` holds, or rejects after timeoutMs (default 10 s). */

  waitFor(
    kind: string,
    ns: string,
    name: string,
    predicate: (obj: any) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** While stuck, new pods of the workload never become ready. */
  stickRollouts(kind: WorkloadKind, ns: string, name: string, stuck: boolean): void;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}
