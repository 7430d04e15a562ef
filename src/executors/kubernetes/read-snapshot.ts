// One consistent look at a workload and its rollout history (ReplicaSets for a Deployment,
// ControllerRevisions for a StatefulSet/DaemonSet, listed by the workload's selector as kubectl does).
import type { WorkloadRef } from '../../model/workload-ref.js';
import { findControllerRevisions } from './find-controller-revisions.js';
import { findDeploymentRevisions } from './find-deployment-revisions.js';
import type { KubeClient } from '../../kube/kube-client.js';
import type { RevisionHistory, Workload } from '../../kube/kube-types.js';
import { labelSelectorString } from './label-selector.js';
import { readRolloutSnapshot } from './rollouts/read-rollout-snapshot.js';

export interface Snapshot {
  workload: Workload;
  history: RevisionHistory;
  /** A workloadRef Rollout's Deployment (absent when it is not found). */
  reference?: Workload;
  /** Read from the watch cache (cached-snapshot.ts), not from the API server just now. */
  cached?: true;
}

export async function readSnapshot(
  client: KubeClient,
  ref: WorkloadRef,
  signal?: AbortSignal,
): Promise<Snapshot> {
  const workload = await client.readWorkload(ref, signal);
  if (ref.kind === 'Rollout') return readRolloutSnapshot(client, ref, workload, signal);
  const selector = labelSelectorString(workload.spec.selector);
  if (ref.kind === 'Deployment') {
    const replicaSets = await client.listReplicaSets(ref.namespace, selector, signal);
    return { workload, history: findDeploymentRevisions(workload, replicaSets) };
  }
  const revisions = await client.listControllerRevisions(ref.namespace, selector, signal);
  return { workload, history: findControllerRevisions(ref.kind, workload, revisions) };
}
