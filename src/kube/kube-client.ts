// The one Kubernetes client: every API call the controller makes (workloads, their history,
// Events, GitOps objects, Leases, pods) goes through here, built once per process from the one
// kubeconfig (app.ts) over one keep-alive connection (keep-alive-auth.ts). Only src/kube/ imports
// @kubernetes/client-node. It returns plain wire-format JSON, sets the patch Content-Type
// explicitly per call, bounds every call with a timeout and turns every failure into a typed
// error (kube-errors.ts).
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  PatchStrategy,
  ServerConfiguration,
  VersionApi,
  createConfiguration,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import type { WorkloadKind } from '../config/schema.js';
import type { ObjectRef } from '../model/owner.js';
import type { WorkloadRef } from '../model/workload-ref.js';
import { keepAliveAuth } from './keep-alive-auth.js';
import { leaseModel } from './lease-model.js';
import type {
  ControllerRevision,
  Pod,
  PodAddress,
  ReplicaSet,
  WireLease,
  Workload,
} from './kube-types.js';
import { KubeNotFoundError, toKubeError } from './kube-errors.js';

export type PatchType = 'json' | 'strategic' | 'merge';

/** A custom resource (Argo CD, Flux) as plain JSON. */
export interface CustomObject {
  metadata: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }>;
  };
  spec?: Record<string, unknown>;
}

export interface KubeEvent {
  metadata: { name: string; namespace: string };
  involvedObject: {
    apiVersion: string;
    kind: string;
    namespace: string;
    name: string;
    uid?: string;
    resourceVersion?: string;
  };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source: { component: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

export interface KubeClient {
  readWorkload(ref: WorkloadRef, signal?: AbortSignal): Promise<Workload>;
  listReplicaSets(
    namespace: string,
    labelSelector: string,
    signal?: AbortSignal,
  ): Promise<ReplicaSet[]>;
  listControllerRevisions(
    namespace: string,
    labelSelector: string,
    signal?: AbortSignal,
  ): Promise<ControllerRevision[]>;
  patchWorkload(
    ref: WorkloadRef,
    patch: unknown,
    type: PatchType,
    options: { dryRun: boolean; fieldManager: string; signal?: AbortSignal },
  ): Promise<Workload>;
  /** A merge patch on a Rollout's `status` subresource (abort, promoteFull). */
  patchWorkloadStatus(
    ref: WorkloadRef,
    patch: unknown,
    options: { dryRun: boolean; fieldManager: string; signal?: AbortSignal },
  ): Promise<Workload>;
  createEvent(event: KubeEvent, signal?: AbortSignal): Promise<void>;
  listPods(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<Pod[]>;
  /** DELETE a pod, only if it is still the one seen (uid precondition). */
  deletePod(namespace: string, name: string, uid: string, signal?: AbortSignal): Promise<void>;
  /** GET a namespaced custom resource (Argo CD Application, Flux HelmRelease...). */
  readObject(ref: ObjectRef, signal?: AbortSignal): Promise<CustomObject>;
  patchObject(
    ref: ObjectRef,
    patch: unknown,
    type: Exclude<PatchType, 'strategic'>,
    options: { dryRun: boolean; fieldManager: string; signal?: AbortSignal },
  ): Promise<CustomObject>;
  /** GET /version with the given timeout: the cheap reachability probe. */
  version(timeoutMs: number): Promise<string>;
  /** Whether the API server serves `resource` in group/version (discovery; 404: not installed). */
  servesResource(group: string, version: string, resource: string): Promise<boolean>;
  /** Workloads of a kind with the label selector, in one namespace or (undefined) all. */
  listWorkloads(
    kind: WorkloadKind,
    namespace: string | undefined,
    labelSelector: string,
  ): Promise<Workload[]>;
  readLease(namespace: string, name: string, timeoutMs: number): Promise<WireLease>;
  createLease(namespace: string, lease: WireLease, timeoutMs: number): Promise<WireLease>;
  replaceLease(namespace: string, lease: WireLease, timeoutMs: number): Promise<WireLease>;
  /** A pod's addresses (the holder of the Lease is a pod named after it). */
  readPodAddress(namespace: string, name: string): Promise<PodAddress>;
  /** TCP connections opened so far are reused; this closes them (shutdown). */
  close(): void;
  /** SelfSubjectAccessReview: may this identity do `verb` on the resource (in `namespace`; '' = all)? */
  reviewAccess(attributes: AccessAttributes): Promise<{ allowed: boolean; reason?: string }>;
}

/** The resource attributes of an access review (group '' is the core API). */
export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  /** e.g. `status` (a Rollout's abort and promoteFull go there). */
  subresource?: string;
  namespace: string;
  name?: string;
}

export function createKubeClient(
  kc: KubeConfig,
  options: { requestTimeoutMs: number },
): KubeClient {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the Kubernetes config has no current cluster');
  const auth = keepAliveAuth(kc);
  // What kc.makeApiClient builds, with the keep-alive authentication in place of kc itself.
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: auth },
  });
  const apps = new AppsV1Api(configuration);
  const core = new CoreV1Api(configuration);
  const versionApi = new VersionApi(configuration);
  const custom = new CustomObjectsApi(configuration);
  const coordination = new CoordinationV1Api(configuration);
  const authz = new AuthorizationV1Api(configuration);
  const objectParams = (ref: ObjectRef) => {
    const [group = '', version = ''] = ref.apiVersion.split('/');
    return { group, version, plural: pluralOf(ref.kind), namespace: ref.namespace, name: ref.name };
  };

  // A per-call middleware that bounds the request (and the caller's abort) with a timeout.
  const limit = (
    signal: AbortSignal | undefined,
    timeoutMs = options.requestTimeoutMs,
    base?: ConfigurationOptions<ObservableMiddleware>,
  ): ConfigurationOptions<ObservableMiddleware> => {
    const middleware: ObservableMiddleware = {
      pre: (ctx) => {
        const timeout = AbortSignal.timeout(timeoutMs);
        ctx.setSignal(signal ? AbortSignal.any([timeout, signal]) : timeout);
        return new Observable(Promise.resolve(ctx));
      },
      post: (rsp) => new Observable(Promise.resolve(rsp)),
    };
    return {
      ...base,
      middleware: [...(base?.middleware ?? []), middleware],
      middlewareMergeStrategy: 'append',
    };
  };

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      // The generated models are class instances with Date fields; JSON round-trip gives the
      // wire format back (field names match for every type the executor reads).
      return JSON.parse(JSON.stringify(await fn())) as T;
    } catch (err) {
      throw toKubeError(err, what);
    }
  };

  return {
    readWorkload(ref, signal) {
      const param = { name: ref.name, namespace: ref.namespace };
      const opts = limit(signal);
      return call(`GET ${ref.kind} ${ref.namespace}/${ref.name}`, (): Promise<unknown> => {
        if (ref.kind === 'Rollout')
          return custom.getNamespacedCustomObject(rolloutParams(ref), opts);
        if (ref.kind === 'Deployment') return apps.readNamespacedDeployment(param, opts);
        if (ref.kind === 'StatefulSet') return apps.readNamespacedStatefulSet(param, opts);
        return apps.readNamespacedDaemonSet(param, opts);
      }) as Promise<Workload>;
    },
    async listReplicaSets(namespace, labelSelector, signal) {
      const list = await call(`LIST ReplicaSets in ${namespace}`, () =>
        apps.listNamespacedReplicaSet({ namespace, labelSelector }, limit(signal)),
      );
      return (list.items ?? []) as unknown as ReplicaSet[];
    },
    async listControllerRevisions(namespace, labelSelector, signal) {
      const list = await call(`LIST ControllerRevisions in ${namespace}`, () =>
        apps.listNamespacedControllerRevision({ namespace, labelSelector }, limit(signal)),
      );
      return (list.items ?? []) as unknown as ControllerRevision[];
    },
    readObject(ref, signal) {
      return call(`GET ${ref.kind} ${ref.namespace}/${ref.name}`, () =>
        custom.getNamespacedCustomObject(objectParams(ref), limit(signal)),
      ) as Promise<CustomObject>;
    },
    patchObject(ref, patch, type, { dryRun, fieldManager, signal }) {
      const param = {
        ...objectParams(ref),
        body: patch,
        fieldManager,
        ...(dryRun ? { dryRun: 'All' } : {}),
      };
      const opts = limit(signal, undefined, setHeaderOptions('Content-Type', contentTypeOf(type)));
      const what = `PATCH ${ref.kind} ${ref.namespace}/${ref.name}${dryRun ? ' (dry run)' : ''}`;
      return call(what, () =>
        custom.patchNamespacedCustomObject(param, opts),
      ) as Promise<CustomObject>;
    },
    patchWorkloadStatus(ref, patch, { dryRun, fieldManager, signal }) {
      if (ref.kind !== 'Rollout') throw new Error(`no status patches for a ${ref.kind}`);
      const param = {
        ...rolloutParams(ref),
        body: patch,
        fieldManager,
        ...(dryRun ? { dryRun: 'All' } : {}),
      };
      const opts = limit(
        signal,
        undefined,
        setHeaderOptions('Content-Type', contentTypeOf('merge')),
      );
      const what = `PATCH ${ref.kind} ${ref.namespace}/${ref.name} status${dryRun ? ' (dry run)' : ''}`;
      return call(what, () =>
        custom.patchNamespacedCustomObjectStatus(param, opts),
      ) as Promise<Workload>;
    },
    patchWorkload(ref, patch, type, { dryRun, fieldManager, signal }) {
      // A custom resource takes no strategic merge patch; for the metadata maps the callers
      // send that way (marks, annotations), a merge patch means the same.
      const contentType = contentTypeOf(
        ref.kind === 'Rollout' && type === 'strategic' ? 'merge' : type,
      );
      const param = {
        name: ref.name,
        namespace: ref.namespace,
        body: patch,
        fieldManager,
        ...(dryRun ? { dryRun: 'All' } : {}),
      };
      const opts = limit(signal, undefined, setHeaderOptions('Content-Type', contentType));
      const what = `PATCH ${ref.kind} ${ref.namespace}/${ref.name}${dryRun ? ' (dry run)' : ''}`;
      return call(what, (): Promise<unknown> => {
        if (ref.kind === 'Rollout') {
          return custom.patchNamespacedCustomObject({ ...rolloutParams(ref), ...param }, opts);
        }
        if (ref.kind === 'Deployment') return apps.patchNamespacedDeployment(param, opts);
        if (ref.kind === 'StatefulSet') return apps.patchNamespacedStatefulSet(param, opts);
        return apps.patchNamespacedDaemonSet(param, opts);
      }) as Promise<Workload>;
    },
    async listPods(namespace, labelSelector, signal) {
      const list = await call(`LIST Pods in ${namespace}`, () =>
        core.listNamespacedPod({ namespace, labelSelector }, limit(signal)),
      );
      return (list.items ?? []) as unknown as Pod[];
    },
    async deletePod(namespace, name, uid, signal) {
      await call(`DELETE Pod ${namespace}/${name}`, () =>
        core.deleteNamespacedPod(
          { namespace, name, body: { preconditions: { uid } } },
          limit(signal),
        ),
      );
    },
    async createEvent(event, signal) {
      await call(`CREATE Event in ${event.metadata.namespace}`, () =>
        core.createNamespacedEvent(
          { namespace: event.metadata.namespace, body: event as never },
          limit(signal),
        ),
      );
    },
    async version(timeoutMs) {
      const info = await call('GET /version', () =>
        versionApi.getCode(limit(undefined, timeoutMs)),
      );
      return info.gitVersion;
    },
    async reviewAccess(a) {
      const review = await call(`CREATE SelfSubjectAccessReview (${a.verb} ${a.resource})`, () =>
        authz.createSelfSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { ...a } },
            },
          },
          limit(undefined),
        ),
      );
      return {
        allowed: review.status?.allowed === true,
        ...(review.status?.reason ? { reason: review.status.reason } : {}),
      };
    },
    async servesResource(group, version, resource) {
      try {
        const list = await call(`GET /apis/${group}/${version}`, () =>
          custom.getAPIResources({ group, version }, limit(undefined)),
        );
        return (list.resources ?? []).some((r) => r.name === resource);
      } catch (err) {
        if (err instanceof KubeNotFoundError) return false;
        throw err;
      }
    },
    async listWorkloads(kind, namespace, labelSelector) {
      const where = namespace ?? 'all namespaces';
      const opts = limit(undefined);
      const list = await call(`LIST ${kind}s in ${where}`, (): Promise<{ items?: unknown[] }> => {
        if (kind === 'Rollout')
          return namespace
            ? custom.listNamespacedCustomObject({ ...ROLLOUTS, namespace, labelSelector }, opts)
            : custom.listClusterCustomObject({ ...ROLLOUTS, labelSelector }, opts);
        if (kind === 'Deployment')
          return namespace
            ? apps.listNamespacedDeployment({ namespace, labelSelector }, opts)
            : apps.listDeploymentForAllNamespaces({ labelSelector }, opts);
        if (kind === 'StatefulSet')
          return namespace
            ? apps.listNamespacedStatefulSet({ namespace, labelSelector }, opts)
            : apps.listStatefulSetForAllNamespaces({ labelSelector }, opts);
        return namespace
          ? apps.listNamespacedDaemonSet({ namespace, labelSelector }, opts)
          : apps.listDaemonSetForAllNamespaces({ labelSelector }, opts);
      });
      return (list.items ?? []) as Workload[];
    },
    readLease: (namespace, name, timeoutMs) =>
      call(`GET Lease ${namespace}/${name}`, (): Promise<unknown> =>
        coordination.readNamespacedLease({ name, namespace }, limit(undefined, timeoutMs)),
      ) as Promise<WireLease>,
    createLease: (namespace, lease, timeoutMs) =>
      call(`CREATE Lease ${namespace}/${lease.metadata.name}`, (): Promise<unknown> =>
        coordination.createNamespacedLease(
          { namespace, body: leaseModel(lease) },
          limit(undefined, timeoutMs),
        ),
      ) as Promise<WireLease>,
    replaceLease: (namespace, lease, timeoutMs) =>
      call(`REPLACE Lease ${namespace}/${lease.metadata.name}`, (): Promise<unknown> =>
        coordination.replaceNamespacedLease(
          { name: lease.metadata.name, namespace, body: leaseModel(lease) },
          limit(undefined, timeoutMs),
        ),
      ) as Promise<WireLease>,
    async readPodAddress(namespace, name) {
      const pod = (await call(`GET Pod ${namespace}/${name}`, (): Promise<unknown> =>
        core.readNamespacedPod({ name, namespace }, limit(undefined)),
      )) as {
        metadata?: { deletionTimestamp?: string };
        status?: { podIP?: string; podIPs?: Array<{ ip?: string }> };
      };
      const ips = new Set<string>();
      if (pod.status?.podIP) ips.add(pod.status.podIP);
      for (const p of pod.status?.podIPs ?? []) if (p.ip) ips.add(p.ip);
      return { deleting: !!pod.metadata?.deletionTimestamp, ips: [...ips] };
    },
    close: () => auth.close(),
  };
}

/** Argo Rollouts' `Rollout` through the custom objects API. */
const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
const rolloutParams = (ref: WorkloadRef) => ({
  ...ROLLOUTS,
  namespace: ref.namespace,
  name: ref.name,
});

function contentTypeOf(type: PatchType): PatchStrategy {
  if (type === 'json') return PatchStrategy.JsonPatch;
  if (type === 'merge') return PatchStrategy.MergePatch;
  return PatchStrategy.StrategicMergePatch;
}

/** Resource names of the kinds read through the custom objects API (all regular English plurals). */
function pluralOf(kind: string): string {
  return `${kind.toLowerCase()}s`;
}
