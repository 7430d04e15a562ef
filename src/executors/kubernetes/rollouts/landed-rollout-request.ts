// recover() after a restart that lost the journal's `patched` record (a crash between the
// request and its journal append): did this job's request to the Rollout land, and what does
// following it need (rollout-ours.ts)? The journal has the pinned revisions, the cluster has the rest:
// - undo: our last-rollback record with the job's id, on the Rollout or, for a workloadRef
//   Rollout, on the Deployment that holds the template (where the undo wrote it);
// - abort: the status subresource keeps no metadata, so the API server's field ownership is the
//   record: `status.abort` owned by our field manager, set no earlier than the job was accepted
//   (its createdAt: a job adopted from a dead leader keeps the time that leader accepted it; a
//   later job for the same workload would have been coalesced into this one), on the revision
//   the job pinned as bad. A human's abort is owned by their client, never ours. The bound is
//   the controller's clock against the API server's whole seconds: a skew only ever makes the
//   abort look foreign, and then execute() reports it already aborted (no second request).
import { parseLastRollback } from '../../../kube/last-rollback.js';
import type { ManagedFieldsEntry } from '../../../kube/kube-types.js';
import type { JobPatch } from '../../../model/executor.js';
import type { Job } from '../../../model/job.js';
import type { Snapshot } from '../read-snapshot.js';
import { ourRollout } from '../our-rollout.js';
import { asRollout } from './argo-rollout.js';
import type { RolloutHistory, RolloutRevision } from './find-rollout-revisions.js';
import { rollbackWindowCovers, wholeSeconds } from './resolve-rollout.js';

/** What the job records once recover() found its request: as execute() records it. */
export type LandedRolloutRequest = Required<
  Pick<JobPatch, 'patched' | 'actedAt' | 'fromRevision' | 'toRevision' | 'rollout'>
>;

export function landedRolloutRequest(
  job: Pick<Job, 'id' | 'createdAt' | 'startedAt' | 'actedAt' | 'fromRevision' | 'toRevision'>,
  snap: Snapshot,
  controllerName: string,
): LandedRolloutRequest | undefined {
  const rollout = asRollout(snap.workload);
  const history = snap.history as RolloutHistory;
  const holder = snap.reference ?? snap.workload;
  const record = parseLastRollback(holder.metadata.annotations);
  const generation = rollout.metadata.generation;
  if (record?.jobId === job.id) {
    const target =
      history.entries.find((e) => record.toName !== undefined && e.name === record.toName) ??
      byRevision(history, record.toRevision);
    const bad = byRevision(history, record.fromRevision) ?? history.stable;
    const stamped = ourRollout(controllerName, holder);
    return {
      patched: true,
      actedAt: job.actedAt ?? record.at,
      fromRevision: record.fromRevision,
      toRevision: record.toRevision,
      rollout: {
        // The Rollout's current generation is at least ours: following waits longer, never less.
        ...(generation !== undefined ? { generation } : {}),
        ...(stamped.patchedAt ? { patchedAt: stamped.patchedAt } : {}),
        argo: {
          action: 'undo',
          targetHash: target?.hash ?? '',
          badHash: bad?.hash ?? '',
          // Once Argo promoted the rollback by itself the window no longer "covers" it, and the
          // fast-track then finds it promoted and asks nothing.
          fastTrack:
            target && rollbackWindowCovers(rollout, history, target)
              ? 'rollbackWindow'
              : 'promoteFull',
          ...(snap.reference?.metadata.generation !== undefined
            ? { workloadGeneration: snap.reference.metadata.generation }
            : {}),
        },
      },
    };
  }

  const status = rollout.status ?? {};
  const { fromRevision, toRevision } = job;
  if (status.abort !== true || fromRevision === undefined || toRevision === undefined) return;
  const bad = history.current;
  if (!bad || bad.revision !== fromRevision || !status.stableRS) return;
  const entry = ourAbort(rollout.metadata.managedFields, controllerName);
  const started = wholeSeconds(job.createdAt || job.startedAt);
  const at = wholeSeconds(entry?.time);
  if (!entry || started === undefined || at === undefined || at < started) return;
  return {
    patched: true,
    actedAt: job.actedAt ?? entry.time!,
    fromRevision,
    toRevision,
    rollout: {
      ...(generation !== undefined ? { generation } : {}),
      patchedAt: entry.time!,
      argo: { action: 'abort', targetHash: status.stableRS, badHash: bad.hash },
    },
  };
}

/** Our field manager's write to the status subresource, if it owns `status.abort`. */
function ourAbort(
  entries: ManagedFieldsEntry[] | undefined,
  controllerName: string,
): ManagedFieldsEntry | undefined {
  return entries?.find((e) => {
    if (e.manager !== controllerName || e.subresource !== 'status') return false;
    const status = e.fieldsV1?.['f:status'] as Record<string, unknown> | undefined;
    return status !== undefined && 'f:abort' in status;
  });
}

/** The ReplicaSet that holds (or held, before Argo renumbered it on reuse) that revision. */
function byRevision(history: RolloutHistory, revision: number): RolloutRevision | undefined {
  return (
    history.entries.find((e) => e.revision === revision) ??
    history.entries.find((e) => e.previousRevisions.includes(revision))
  );
}
