// The Kubernetes calls high availability needs beyond the executor's client (kube-client.ts):
// the Lease (coordination.k8s.io/v1) and listing workloads by label, cluster-wide or per
// namespace. Same rules as kube-client.ts: plain wire JSON out, a timeout on every call, typed
// errors (kube-errors.ts).
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type V1Lease,
} from '@kubernetes/client-node';
import type { WorkloadKind } from '../config/schema.js';
import type { Workload } from '../kube/kube-types.js';
import { toKubeError } from '../kube/kube-errors.js';
import type { PodAddress } from './leader-address.js';

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

export interface HaKubeClient {
  readLease(namespace: string, name: string, timeoutMs: number): Promise<WireLease>;
  createLease(namespace: string, lease: WireLease, timeoutMs: number): Promise<WireLease>;
  replaceLease(namespace: string, lease: WireLease, timeoutMs: number): Promise<WireLease>;
  /** A pod's addresses (the holder of the Lease is a pod named after it). */
  readPodAddress(namespace: string, name: string): Promise<PodAddress>;
  /** Workloads of a kind with the label selector, in one namespace or (undefined) all. */
  listWorkloads(
    kind: WorkloadKind,
    namespace: string | undefined,
    labelSelector: string,
  ): Promise<Workload[]>;
}

export function createHaKubeClient(
  kc: KubeConfig,
  options: { requestTimeoutMs: number },
): HaKubeClient {
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);

  const limit = (timeoutMs: number): ConfigurationOptions<ObservableMiddleware> => ({
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return new Observable(Promise.resolve(ctx));
        },
        post: (rsp) => new Observable(Promise.resolve(rsp)),
      },
    ],
    middlewareMergeStrategy: 'append',
  });

  const call = async <T>(what: string, fn: () => Promise<unknown>): Promise<T> => {
    try {
      // Generated models carry Date instances; JSON gives the wire form (MicroTime strings) back.
      return JSON.parse(JSON.stringify(await fn())) as T;
    } catch (err) {
      throw toKubeError(err, what);
    }
  };

  // The generated serializer passes unknown types through, and V1MicroTime's toISOString()
  // keeps microseconds, so times go out as MicroTime.
  const toModel = (lease: WireLease): V1Lease => {
    const spec = lease.spec ?? {};
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: lease.metadata,
      spec: {
        ...(spec.holderIdentity !== undefined ? { holderIdentity: spec.holderIdentity } : {}),
        ...(spec.leaseDurationSeconds !== undefined
          ? { leaseDurationSeconds: spec.leaseDurationSeconds }
          : {}),
        ...(spec.leaseTransitions !== undefined ? { leaseTransitions: spec.leaseTransitions } : {}),
        ...(spec.acquireTime ? { acquireTime: new V1MicroTime(spec.acquireTime) } : {}),
        ...(spec.renewTime ? { renewTime: new V1MicroTime(spec.renewTime) } : {}),
      },
    };
  };

  return {
    readLease: (namespace, name, timeoutMs) =>
      call(`GET Lease ${namespace}/${name}`, () =>
        coordination.readNamespacedLease({ name, namespace }, limit(timeoutMs)),
      ),
    createLease: (namespace, lease, timeoutMs) =>
      call(`CREATE Lease ${namespace}/${lease.metadata.name}`, () =>
        coordination.createNamespacedLease({ namespace, body: toModel(lease) }, limit(timeoutMs)),
      ),
    replaceLease: (namespace, lease, timeoutMs) =>
      call(`REPLACE Lease ${namespace}/${lease.metadata.name}`, () =>
        coordination.replaceNamespacedLease(
          { name: lease.metadata.name, namespace, body: toModel(lease) },
          limit(timeoutMs),
        ),
      ),
    async readPodAddress(namespace, name) {
      const pod = await call<{
        metadata?: { deletionTimestamp?: string };
        status?: { podIP?: string; podIPs?: Array<{ ip?: string }> };
      }>(`GET Pod ${namespace}/${name}`, () =>
        core.readNamespacedPod({ name, namespace }, limit(options.requestTimeoutMs)),
      );
      const ips = new Set<string>();
      if (pod.status?.podIP) ips.add(pod.status.podIP);
      for (const p of pod.status?.podIPs ?? []) if (p.ip) ips.add(p.ip);
      return { deleting: !!pod.metadata?.deletionTimestamp, ips: [...ips] };
    },
    async listWorkloads(kind, namespace, labelSelector) {
      const where = namespace ?? 'all namespaces';
      const opts = limit(options.requestTimeoutMs);
      const list = await call<{ items?: Workload[] }>(`LIST ${kind}s in ${where}`, () => {
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
      return list.items ?? [];
    },
  };
}
