// A Lease as the generated client sends it (kube-client.ts).
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { WireLease } from './kube-types.js';

/**
 * The generated serializer passes unknown types through, and V1MicroTime's toISOString() keeps
 * microseconds, so a Lease's times go out as MicroTime.
 */
export function leaseModel(lease: WireLease): V1Lease {
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
}
