// A Rollout, the ReplicaSets it controls and, for a workloadRef Rollout, the Deployment whose
// template it runs: the one look every Rollout decision is made on.
import type { KubeClient } from '../../../kube/kube-client.js';
import { KubeNotFoundError } from '../../../kube/kube-errors.js';
import type { Workload } from '../../../kube/kube-types.js';
import type { WorkloadRef } from '../../../model/workload-ref.js';
import { labelSelectorString } from '../label-selector.js';
import type { Snapshot } from '../read-snapshot.js';
import { asRollout } from './argo-rollout.js';
import { findRolloutRevisions } from './find-rollout-revisions.js';

export async function readRolloutSnapshot(
  client: KubeClient,
  ref: WorkloadRef,
  workload: Workload,
  signal?: AbortSignal,
): Promise<Snapshot> {
  const rollout = asRollout(workload);
  const workloadRef = rollout.spec.workloadRef;
  let reference: Workload | undefined;
  if (workloadRef?.kind === 'Deployment' && workloadRef.name) {
    try {
      reference = await client.readWorkload(
        { kind: 'Deployment', namespace: ref.namespace, name: workloadRef.name },
        signal,
      );
    } catch (err) {
      if (!(err instanceof KubeNotFoundError)) throw err;
    }
  }
  const selector = labelSelectorString(rollout.spec.selector ?? reference?.spec.selector);
  const replicaSets = await client.listReplicaSets(ref.namespace, selector, signal);
  return {
    workload,
    history: findRolloutRevisions(rollout, replicaSets),
    ...(reference ? { reference } : {}),
  };
}
