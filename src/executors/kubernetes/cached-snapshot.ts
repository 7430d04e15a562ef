// A snapshot from the watch cache, used only when it is consistent in itself; otherwise
// undefined and the caller reads the API server (read-snapshot.ts). The workload and its history
// come from two watches, each an in-order replay of its own resource but not in step with the
// other, so the history must show the very revision the workload says is current:
// - Deployment: the ReplicaSet holding the workload's template carries the workload's
//   `deployment.kubernetes.io/revision`. Revision numbers only grow, and a ReplicaSet is renumbered
//   only by a template change, so a history watch that has seen that number has seen every
//   renumbering the workload's current revision depends on;
// - StatefulSet: that revision is status.updateRevision and the highest one; DaemonSet: the highest.
// A workload whose controller has not observed its generation, or whose template no revision
// holds, is left to the direct read (which says "in flux" with the freshest facts). A stale but
// self-consistent pair (both watches behind) plans on an old resourceVersion: the PATCH's
// resourceVersion test fails and the rollback is planned again from direct reads.
import type { WatchCache } from '../../kube/watch-cache.js';
import type { RevisionHistory } from '../../kube/kube-types.js';
import type { WorkloadRef } from '../../model/workload-ref.js';
import { findControllerRevisions } from './find-controller-revisions.js';
import { REVISION_ANNOTATION, findDeploymentRevisions } from './find-deployment-revisions.js';
import type { Snapshot } from './read-snapshot.js';

export function cachedSnapshot(cache: WatchCache, ref: WorkloadRef): Snapshot | undefined {
  if (ref.kind === 'Rollout') return undefined;
  const workload = cache.workload(ref);
  const uid = workload?.metadata.uid;
  if (!workload || !uid) return undefined;
  let history: RevisionHistory;
  if (ref.kind === 'Deployment') {
    const replicaSets = cache.owned('ReplicaSet', ref.namespace, uid);
    if (!replicaSets) return undefined;
    history = findDeploymentRevisions(workload, replicaSets);
    const annotated = workload.metadata.annotations?.[REVISION_ANNOTATION];
    if (!history.current || String(history.currentRevision) !== annotated) return undefined;
  } else {
    const revisions = cache.owned('ControllerRevision', ref.namespace, uid);
    if (!revisions) return undefined;
    history = findControllerRevisions(ref.kind, workload, revisions);
    const highest = Math.max(...history.entries.map((e) => e.revision));
    if (!history.current || history.currentRevision !== highest) return undefined;
    if (ref.kind === 'StatefulSet' && workload.status?.updateRevision !== history.current.name)
      return undefined;
  }
  return { workload, history, cached: true };
}
