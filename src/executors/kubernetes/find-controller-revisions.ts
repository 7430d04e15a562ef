// A StatefulSet's or DaemonSet's rollout history from its ControllerRevisions, as kubectl reads
// it: revisions controlled by the workload (controller ownerReference UID), ordered by the
// `.revision` field. The caller lists them with the workload's selector. "Current" is the
// StatefulSet's status.updateRevision, else the revision whose template is the workload's,
// else the newest.
import type {
  ControllerRevision,
  PodTemplate,
  RevisionEntry,
  RevisionHistory,
  Workload,
  WorkloadKind,
} from '../../kube/kube-types.js';
import { mainResourceChangedAt } from './became-current.js';
import { templatesEqual } from './templates-equal.js';

export function findControllerRevisions(
  kind: Exclude<WorkloadKind, 'Deployment'>,
  workload: Workload,
  revisions: ControllerRevision[],
): RevisionHistory {
  const uid = workload.metadata.uid;
  const entries: RevisionEntry[] = revisions
    .filter((cr) => {
      const controller = cr.metadata.ownerReferences?.find((o) => o.controller === true);
      return uid !== undefined && controller?.uid === uid;
    })
    .map((cr) => {
      const changedAt = mainResourceChangedAt(cr.metadata.managedFields);
      return {
        revision: Number(cr.revision ?? 0),
        name: cr.metadata.name ?? '',
        template: revisionTemplate(cr),
        ...(cr.metadata.creationTimestamp ? { createdAt: cr.metadata.creationTimestamp } : {}),
        ...(changedAt ? { changedAt } : {}),
        previousRevisions: [],
        ...(cr.data ? { data: cr.data } : {}),
      };
    })
    .sort((a, b) => a.revision - b.revision);

  const updateRevision = kind === 'StatefulSet' ? workload.status?.updateRevision : undefined;
  const current =
    (updateRevision ? entries.find((e) => e.name === updateRevision) : undefined) ??
    entries.filter((e) => templatesEqual(e.template, workload.spec.template)).at(-1) ??
    entries.at(-1);
  const currentRevision = current?.revision ?? 0;
  const previous = entries.filter((e) => e.revision < currentRevision).at(-1);
  return {
    currentRevision,
    ...(current ? { current } : {}),
    ...(previous ? { previous } : {}),
    entries,
  };
}

/** The pod template a revision holds, without the strategic-merge `$patch` directive. */
export function revisionTemplate(cr: ControllerRevision): PodTemplate {
  const template = structuredClone(cr.data?.spec?.template ?? {});
  delete template.$patch;
  return template;
}
