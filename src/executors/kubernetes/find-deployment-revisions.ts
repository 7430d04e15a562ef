// A Deployment's rollout history from its ReplicaSets, by the rules `kubectl rollout undo` uses:
// only ReplicaSets whose controller ownerReference UID is the Deployment's count, the revision
// is the `deployment.kubernetes.io/revision` annotation (missing = 0, unparsable = ignored).
// Unlike plain `undo`, "current" is the ReplicaSet whose template is the Deployment's, so the
// target is the newest revision older than what is actually running, not merely the
// second-highest number. When no ReplicaSet holds the template, or the controller has not
// observed the current generation, the workload is in flux (contract.md "Kubernetes rollback semantics"): a newer change nobody has
// processed yet, which the Deployment's revision annotation and its newest ReplicaSet do not
// describe, so there is no current revision to blame.
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

  const unobserved = unobservedGeneration('deployment', deployment);
  if (unobserved) return { currentRevision: 0, entries, inFlux: unobserved };
  const current = entries
    .filter((e) => templatesEqual(e.template, deployment.spec.template))
    .at(-1);
  if (!current) {
    return {
      currentRevision: 0,
      entries,
      inFlux:
        'its pod template matches none of its ReplicaSets (a change the deployment controller has not rolled out yet)',
    };
  }
  return withPrevious(current, entries);
}

/** Why the workload's status may describe an older spec, if it may (contract.md "Kubernetes rollback semantics": in flux). */
export function unobservedGeneration(controller: string, workload: Workload): string | undefined {
  const generation = workload.metadata.generation;
  const observed = workload.status?.observedGeneration;
  if (generation === undefined || (observed !== undefined && observed >= generation))
    return undefined;
  return `the ${controller} controller has not processed generation ${generation} of its spec yet (status.observedGeneration ${observed ?? 'unset'}): a newer change is in flux`;
}

/** The history with `current` and the newest revision older than it. */
export function withPrevious(current: RevisionEntry, entries: RevisionEntry[]): RevisionHistory {
  const previous = entries.filter((e) => e.revision < current.revision).at(-1);
  return {
    currentRevision: current.revision,
    current,
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
