// LeaseStore over the API server: a coordination.k8s.io/v1 Lease read, created and replaced at
// the resourceVersion that was read (409 = another candidate wrote first).
import { KubeConflictError, KubeNotFoundError } from '../kube/kube-errors.js';
import type { KubeClient } from '../kube/kube-client.js';
import type { WireLease } from '../kube/kube-types.js';
import { CONTROLLER_STATE_ANNOTATION } from './controller-state-annotation.js';
import {
  LEADER_SIGNATURE_ANNOTATION,
  LEADER_URL_ANNOTATION,
  LeaseConflictError,
  type LeaseRecord,
  type LeaseStore,
} from './lease-store.js';

export function createKubeLeaseStore(
  client: KubeClient,
  lease: { namespace: string; name: string },
): LeaseStore {
  const { namespace, name } = lease;
  const toWire = (r: LeaseRecord): WireLease => {
    const annotations: Record<string, string> = {
      ...(r.leaderUrl ? { [LEADER_URL_ANNOTATION]: r.leaderUrl } : {}),
      ...(r.leaderSignature ? { [LEADER_SIGNATURE_ANNOTATION]: r.leaderSignature } : {}),
      ...(r.controllerState ? { [CONTROLLER_STATE_ANNOTATION]: r.controllerState } : {}),
    };
    return {
      metadata: {
        name,
        namespace,
        ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}),
        ...(Object.keys(annotations).length ? { annotations } : {}),
      },
      spec: {
        holderIdentity: r.holderIdentity,
        leaseDurationSeconds: Math.max(1, Math.round(r.leaseDurationSeconds)),
        leaseTransitions: r.leaseTransitions,
        ...(r.acquireTime ? { acquireTime: r.acquireTime } : {}),
        ...(r.renewTime ? { renewTime: r.renewTime } : {}),
      },
    };
  };
  const fromWire = (w: WireLease): LeaseRecord => ({
    holderIdentity: w.spec?.holderIdentity ?? '',
    leaseDurationSeconds: w.spec?.leaseDurationSeconds ?? 0,
    leaseTransitions: w.spec?.leaseTransitions ?? 0,
    ...(w.spec?.acquireTime ? { acquireTime: w.spec.acquireTime } : {}),
    ...(w.spec?.renewTime ? { renewTime: w.spec.renewTime } : {}),
    ...(w.metadata.resourceVersion ? { resourceVersion: w.metadata.resourceVersion } : {}),
    ...(w.metadata.annotations?.[LEADER_URL_ANNOTATION]
      ? { leaderUrl: w.metadata.annotations[LEADER_URL_ANNOTATION] }
      : {}),
    ...(w.metadata.annotations?.[LEADER_SIGNATURE_ANNOTATION]
      ? { leaderSignature: w.metadata.annotations[LEADER_SIGNATURE_ANNOTATION] }
      : {}),
    ...(w.metadata.annotations?.[CONTROLLER_STATE_ANNOTATION]
      ? { controllerState: w.metadata.annotations[CONTROLLER_STATE_ANNOTATION] }
      : {}),
  });
  const conflicts = async (fn: () => Promise<WireLease>): Promise<LeaseRecord> => {
    try {
      return fromWire(await fn());
    } catch (err) {
      if (err instanceof KubeConflictError) throw new LeaseConflictError(err.message);
      throw err;
    }
  };
  return {
    describe: `${namespace}/${name}`,
    async get(timeoutMs) {
      try {
        return fromWire(await client.readLease(namespace, name, timeoutMs));
      } catch (err) {
        if (err instanceof KubeNotFoundError) return undefined;
        throw err;
      }
    },
    create: (r, timeoutMs) => conflicts(() => client.createLease(namespace, toWire(r), timeoutMs)),
    replace: (r, timeoutMs) =>
      conflicts(() => client.replaceLease(namespace, toWire(r), timeoutMs)),
  };
}
