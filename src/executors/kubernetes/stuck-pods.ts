// Kubernetes' documented forced-rollback case: a StatefulSet with podManagementPolicy
// OrderedReady (the default) and a RollingUpdate waits for every pod to be Running and Ready
// before it replaces any, so a pod of the bad revision that never becomes ready keeps the
// rolled-back template from ever rolling out. Someone must delete that pod; with
// policy.deleteStuckPods the job does it (contract.md "Kubernetes rollback semantics").
import type { Pod, Workload } from '../../kube/kube-types.js';

export const REVISION_LABEL = 'controller-revision-hash';

/** Whether the StatefulSet can get stuck this way (OrderedReady and RollingUpdate). */
export function ordersReady(sts: Workload): boolean {
  const policy = sts.spec['podManagementPolicy'];
  const strategy = sts.spec.updateStrategy?.type;
  return (
    (policy === undefined || policy === 'OrderedReady') &&
    (strategy === undefined || strategy === 'RollingUpdate')
  );
}

/**
 * The StatefulSet's own pods that are not ready and whose revision `isBad` says is not the one
 * to keep (pods being deleted are left out), by ordinal.
 */
export function notReadyPods(
  sts: Workload,
  pods: Pod[],
  isBad: (revision: string) => boolean,
): Pod[] {
  const uid = sts.metadata.uid;
  return pods
    .filter((p) => {
      const owner = p.metadata.ownerReferences?.find((o) => o.controller === true);
      if (!uid || owner?.uid !== uid || p.metadata.deletionTimestamp) return false;
      const revision = p.metadata.labels?.[REVISION_LABEL];
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return revision !== undefined && isBad(revision) && !ready;
    })
    .sort((a, b) => ordinal(a) - ordinal(b));
}

/**
 * After the rollback patch: pods the controller waits for in vain (not ready and not on the
 * update revision), once it has observed the patched generation. Empty otherwise.
 */
export function stuckPods(sts: Workload, pods: Pod[]): Pod[] {
  const s = sts.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (sts.metadata.generation ?? Infinity);
  if (!ordersReady(sts) || !observed || !s.updateRevision) return [];
  return notReadyPods(sts, pods, (revision) => revision !== s.updateRevision);
}

/** What the operator reads: which pods to delete, and the policy that would do it. */
export function stuckReason(sts: Workload, pods: Pod[]): string {
  const ns = sts.metadata.namespace ?? '';
  const names = pods.map((p) => p.metadata.name ?? '');
  const revisions = [...new Set(pods.map((p) => p.metadata.labels?.[REVISION_LABEL]))].join(', ');
  return `StatefulSet ${ns}/${sts.metadata.name ?? ''} is stuck on pod ${names.join(', ')} of the bad revision ${revisions}, which is not ready: with podManagementPolicy OrderedReady the StatefulSet controller waits for it forever (forced rollback). Delete it (kubectl delete pod ${names.join(' ')} -n ${ns}) and it is recreated from the rolled-back revision, or set policy.deleteStuckPods: true`;
}

function ordinal(p: Pod): number {
  const n = /-(\d+)$/.exec(p.metadata.name ?? '')?.[1];
  return n === undefined ? Number.MAX_SAFE_INTEGER : Number(n);
}
