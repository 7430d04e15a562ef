// A StatefulSet's or DaemonSet's rollout history from its ControllerRevisions, as kubectl reads
// it: revisions controlled by the workload (controller ownerReference UID), ordered by the
// `.revision` field. The caller lists them with the workload's selector. "Current" is the
// newest revision whose template is the workload's (for a StatefulSet, status.updateRevision
// when it holds that template). A workload whose status has not observed its generation, or
// whose template no revision holds, is in flux (contract.md "Kubernetes rollback semantics"): its controller has not processed the
// newest change, so status.updateRevision and the newest revision describe an older spec.
import type {
  ControllerRevision,
  PodTemplate,
  RevisionEntry,
  RevisionHistory,
  Workload,
  WorkloadKind,
} from '../../kube/kube-types.js';
import { mainResourceChangedAt } from './became-current.js';
import { unobservedGeneration, withPrevious } from './find-deployment-revisions.js';
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

  const unobserved = unobservedGeneration(kind.toLowerCase(), workload);
  if (unobserved) return { currentRevision: 0, entries, inFlux: unobserved };
  const matching = entries.filter((e) => templatesEqual(e.template, workload.spec.template));
  const updateRevision = kind === 'StatefulSet' ? workload.status?.updateRevision : undefined;
  const current = matching.find((e) => e.name === updateRevision) ?? matching.at(-1);
  if (!current) {
    return {
      currentRevision: 0,
      entries,
      inFlux: `its pod template matches none of its ControllerRevisions (a change the ${kind.toLowerCase()} controller has not recorded yet)`,
    };
  }
  return withPrevious(current, entries);
}

/** The pod template a revision holds, without the strategic-merge `$patch` directive. */
export function revisionTemplate(cr: ControllerRevision): PodTemplate {
  const template = structuredClone(cr.data?.spec?.template ?? {});
  delete template.$patch;
  return template;
}
