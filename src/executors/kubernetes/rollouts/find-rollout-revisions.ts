// A Rollout's history from the ReplicaSets it controls, by the rules of `kubectl argo rollouts
// undo` (pkg/kubectl-argo-rollouts/cmd/undo): only ReplicaSets whose controller ownerReference is
// the Rollout count, the revision is the `rollout.argoproj.io/revision` annotation (missing = 0).
// Which one is current comes from the controller's own status, not from comparing templates:
// Argo matches its ReplicaSets by template hash (`status.currentPodHash`, `status.stableRS`), and a
// ReplicaSet's template is the API server's defaulted copy of the Rollout's undefaulted one.
import type { ReplicaSet, RevisionEntry, RevisionHistory } from '../../../kube/kube-types.js';
import { mainResourceChangedAt } from '../became-current.js';
import {
  ROLLOUT_HASH_LABEL,
  ROLLOUT_REVISION_ANNOTATION,
  ROLLOUT_REVISION_HISTORY_ANNOTATION,
  injectedMetadata,
  type ArgoRollout,
} from './argo-rollout.js';

export interface RolloutRevision extends RevisionEntry {
  /** The `rollouts-pod-template-hash` of its ReplicaSet. */
  hash: string;
}

export interface RolloutHistory extends RevisionHistory {
  current?: RolloutRevision;
  previous?: RolloutRevision;
  entries: RolloutRevision[];
  /** The ReplicaSet the controller calls stable (`status.stableRS`). */
  stable?: RolloutRevision;
}

export function findRolloutRevisions(
  rollout: ArgoRollout,
  replicaSets: ReplicaSet[],
): RolloutHistory {
  const uid = rollout.metadata.uid;
  const entries: RolloutRevision[] = [];
  for (const rs of replicaSets) {
    const owner = rs.metadata.ownerReferences?.find((o) => o.controller === true);
    const hash = rs.metadata.labels?.[ROLLOUT_HASH_LABEL];
    if (!uid || owner?.uid !== uid || !hash) continue;
    const revision = wholeNumber(rs.metadata.annotations?.[ROLLOUT_REVISION_ANNOTATION] ?? '0');
    if (revision === undefined) continue;
    const changedAt = mainResourceChangedAt(rs.metadata.managedFields);
    entries.push({
      revision,
      hash,
      name: rs.metadata.name ?? '',
      template: restorableTemplate(rs),
      ...(rs.metadata.creationTimestamp ? { createdAt: rs.metadata.creationTimestamp } : {}),
      ...(changedAt ? { changedAt } : {}),
      previousRevisions: (rs.metadata.annotations?.[ROLLOUT_REVISION_HISTORY_ANNOTATION] ?? '')
        .split(',')
        .map((v) => wholeNumber(v.trim()))
        .filter((v): v is number => v !== undefined),
      ...(rs.metadata.annotations ? { annotations: rs.metadata.annotations } : {}),
    });
  }
  entries.sort((a, b) => a.revision - b.revision);
  const byHash = (hash: string | undefined) => entries.find((e) => e.hash === hash);
  const current = byHash(rollout.status?.currentPodHash);
  const stable = byHash(rollout.status?.stableRS);
  const previous = current
    ? entries.filter((e) => e.revision < current.revision).at(-1)
    : undefined;
  return {
    currentRevision: current?.revision ?? 0,
    ...(current ? { current } : {}),
    ...(previous ? { previous } : {}),
    ...(stable ? { stable } : {}),
    entries,
  };
}

/**
 * The ReplicaSet's pod template as the Rollout would carry it: without the hash label (as
 * `kubectl argo rollouts undo` strips it) and without the ephemeral metadata Argo injected.
 */
function restorableTemplate(rs: ReplicaSet): RevisionEntry['template'] {
  const template = structuredClone(rs.spec?.template ?? {});
  const injected = injectedMetadata(rs.metadata.annotations);
  const meta = template.metadata;
  if (meta?.labels) {
    for (const key of [ROLLOUT_HASH_LABEL, ...injected.labels]) delete meta.labels[key];
  }
  if (meta?.annotations) {
    for (const key of injected.annotations) delete meta.annotations[key];
  }
  return template;
}

function wholeNumber(value: string): number | undefined {
  return /^\d+$/.test(value) ? Number(value) : undefined;
}
