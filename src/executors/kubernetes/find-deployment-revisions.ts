// A Deployment's rollout history from its ReplicaSets, by the rules `kubectl rollout undo` uses:
// only ReplicaSets whose controller ownerReference UID is the Deployment's count, the revision
// is the `deployment.kubernetes.io/revision` annotation (missing = 0, unparsable = ignored).
// Unlike plain `undo`, "current" is the ReplicaSet whose template is the Deployment's (falling
// back to the Deployment's own revision annotation), so the target is the newest revision older
// than what is actually running, not merely the second-highest number.
import type {
  Workload,
  ReplicaSet,
  RevisionEntry,
  RevisionHistory,
} from '../../kube/kube-types.js';
import { mainResourceChangedAt } from './became-current.js';
import { templatesEqual } from './templates-equal.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';

export function findDeploymentRevisions(
  deployment: Workload,
  replicaSets: ReplicaSet[],
): RevisionHistory {
  const uid = deployment.metadata.uid;
  const owned: RevisionEntry[] = [];
  for (const rs of replicaSets) {
    const controller = rs.metadata.ownerReferences?.find((o) => o.controller === true);
    if (!uid || controller?.uid !== uid) continue;
    const revision = parseRevision(rs.metadata.annotations?.[REVISION_ANNOTATION]);
    if (revision === undefined) continue;
    owned.push({
      revision,
      name: rs.metadata.name ?? '',
      template: rs.spec?.template ?? {},
      ...(rs.metadata.creationTimestamp ? { createdAt: rs.metadata.creationTimestamp } : {}),
      ...changedAt(rs.metadata.managedFields),
      previousRevisions: parseHistory(rs.metadata.annotations?.[REVISION_HISTORY_ANNOTATION]),
      ...(rs.metadata.annotations ? { annotations: rs.metadata.annotations } : {}),
    });
  }
  const entries = owned.sort((a, b) => a.revision - b.revision);

  const matching = entries.filter((e) => templatesEqual(e.template, deployment.spec.template));
  const annotated = parseRevision(deployment.metadata.annotations?.[REVISION_ANNOTATION]);
  const current =
    matching.at(-1) ??
    (annotated ? entries.find((e) => e.revision === annotated) : undefined) ??
    entries.at(-1);
  const currentRevision = current?.revision ?? annotated ?? 0;
  const previous = entries.filter((e) => e.revision < currentRevision).at(-1);
  return {
    currentRevision,
    ...(current ? { current } : {}),
    ...(previous ? { previous } : {}),
    entries,
  };
}

function changedAt(entries: ReplicaSet['metadata']['managedFields']): { changedAt?: string } {
  const at = mainResourceChangedAt(entries);
  return at ? { changedAt: at } : {};
}

function parseRevision(value: string | undefined): number | undefined {
  if (value === undefined) return 0;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

function parseHistory(value: string | undefined): number[] {
  if (!value) return [];
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => /^\d+$/.test(v))
    .map(Number);
}
