// Writes, clears and finds the pending-rollback marks on workloads (pending-rollback.ts).
// Clearing is compare-and-delete: a JSON patch that first tests the annotation still holds the
// value we read, so a mark another job wrote meanwhile is never removed by mistake.
import type { WorkloadKind } from '../config/schema.js';
import type { ReplicaKey } from '../http/replica-key.js';
import type { KubeClient } from '../kube/kube-client.js';
import { ForbiddenError, InvalidError, KubeNotFoundError } from '../kube/kube-errors.js';
import type { Workload } from '../kube/kube-types.js';
import type { WorkloadRef } from '../model/workload-ref.js';
import {
  markProblem,
  PENDING_ROLLBACK_ANNOTATION,
  PENDING_ROLLBACK_LABEL,
  PENDING_ROLLBACK_SELECTOR,
  parsePending,
  signedPending,
  type PendingRollback,
} from './pending-rollback.js';

const KINDS: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
/** Argo Rollouts' CRD: listed only where the API server serves it. */
const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', resource: 'rollouts' };

export interface MarkedWorkload {
  ref: WorkloadRef;
  /** Undefined when the label is there but the annotation is missing or unreadable. */
  pending?: PendingRollback;
  /** Why a readable mark must not be adopted: unsigned, or signed for something else. */
  forged?: string;
}

export interface WorkloadMarks {
  read(ref: WorkloadRef, signal?: AbortSignal): Promise<Workload>;
  mark(ref: WorkloadRef, pending: PendingRollback, signal?: AbortSignal): Promise<void>;
  /** Removes the mark if it still names `jobId`; true when it did (or there was none). */
  clear(ref: WorkloadRef, jobId: string | undefined, signal?: AbortSignal): Promise<boolean>;
  /** Every marked workload, cluster-wide or in the given namespaces. */
  list(namespaces?: readonly string[]): Promise<MarkedWorkload[]>;
}

export function createWorkloadMarks(o: {
  kube: KubeClient;
  fieldManager: string;
  /** Signs the marks this replica writes and verifies those it finds; none: trust none. */
  key?: ReplicaKey;
  /** Told when the marks of a kind could not be listed (and were left out). */
  warn?: (fields: Record<string, unknown>, message: string) => void;
}): WorkloadMarks {
  const cannotList = (namespace: string | undefined, err: Error) =>
    o.warn?.(
      { namespace: namespace ?? null, err: err.message },
      `cannot list rollouts.argoproj.io in ${namespace ?? 'all namespaces'}: a pending Rollout job of the previous leader there is not adopted (grant list on rollouts.argoproj.io; chart: argoRollouts.enabled=true); Deployments, StatefulSets and DaemonSets are still adopted`,
    );
  const rolloutsServed = async () => {
    try {
      return await o.kube.servesResource(ROLLOUTS.group, ROLLOUTS.version, ROLLOUTS.resource);
    } catch (err) {
      if (!(err instanceof ForbiddenError)) throw err;
      cannotList(undefined, err);
      return false;
    }
  };
  const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
  return {
    read: (ref, signal) => o.kube.readWorkload(ref, signal),

    async mark(ref, pending, signal) {
      // Signed for this workload's UID, so a copy on another (or a re-created) one is refused.
      const uid = o.key ? (await o.kube.readWorkload(ref, signal)).metadata.uid : undefined;
      const value =
        o.key && uid ? signedPending(pending, { ref, uid }, o.key) : JSON.stringify(pending);
      const patch = {
        metadata: {
          labels: { [PENDING_ROLLBACK_LABEL]: 'true' },
          annotations: { [PENDING_ROLLBACK_ANNOTATION]: value },
        },
      };
      await o.kube.patchWorkload(ref, patch, 'strategic', {
        dryRun: false,
        fieldManager: o.fieldManager,
        ...(signal ? { signal } : {}),
      });
    },

    async clear(ref, jobId, signal) {
      let workload: Workload;
      try {
        workload = await o.kube.readWorkload(ref, signal);
      } catch (err) {
        if (err instanceof KubeNotFoundError) return true;
        throw err;
      }
      const labels = workload.metadata.labels ?? {};
      const annotations = workload.metadata.annotations ?? {};
      const raw = annotations[PENDING_ROLLBACK_ANNOTATION];
      const hasLabel = PENDING_ROLLBACK_LABEL in labels;
      if (raw === undefined && !hasLabel) return true;
      if (raw !== undefined && jobId !== undefined && parsePending(annotations)?.jobId !== jobId)
        return false;
      const ops: Array<{ op: string; path: string; value?: unknown }> = [];
      if (raw !== undefined) {
        const path = `/metadata/annotations/${escape(PENDING_ROLLBACK_ANNOTATION)}`;
        ops.push({ op: 'test', path, value: raw }, { op: 'remove', path });
      }
      if (hasLabel)
        ops.push({ op: 'remove', path: `/metadata/labels/${escape(PENDING_ROLLBACK_LABEL)}` });
      try {
        await o.kube.patchWorkload(ref, ops, 'json', {
          dryRun: false,
          fieldManager: o.fieldManager,
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        // 422: the test op failed (another job's mark replaced ours) or it was already removed.
        if (err instanceof InvalidError || err instanceof KubeNotFoundError) return false;
        throw err;
      }
      return true;
    },

    async list(namespaces) {
      const scopes: Array<string | undefined> = namespaces?.length ? [...namespaces] : [undefined];
      const out: MarkedWorkload[] = [];
      // Rollouts only where Argo Rollouts is installed: its absence, or a grant that leaves it
      // out, never stops the other kinds from being adopted.
      const kinds = (await rolloutsServed()) ? [...KINDS, 'Rollout' as const] : KINDS;
      for (const kind of kinds) {
        for (const ns of scopes) {
          let workloads: Workload[];
          try {
            workloads = await o.kube.listWorkloads(kind, ns, PENDING_ROLLBACK_SELECTOR);
          } catch (err) {
            if (kind !== 'Rollout') throw err;
            if (err instanceof KubeNotFoundError) continue; // the CRD went away meanwhile
            if (!(err instanceof ForbiddenError)) throw err;
            cannotList(ns, err);
            continue;
          }
          for (const w of workloads) {
            const pending = parsePending(w.metadata.annotations);
            const ref = {
              kind,
              namespace: w.metadata.namespace ?? ns ?? '',
              name: w.metadata.name ?? '',
            };
            const forged = pending
              ? markProblem(w.metadata.annotations, { ref, uid: w.metadata.uid }, o.key)
              : undefined;
            out.push({ ref, ...(pending ? { pending } : {}), ...(forged ? { forged } : {}) });
          }
        }
      }
      return out;
    },
  };
}
