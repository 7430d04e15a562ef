// When the current revision became current, from what the API server records (SPEC "Kubernetes
// rollback semantics": a reused ReplicaSet or ControllerRevision keeps its old creation time).
// Both "moved on" (became current after the alert started) and "only blame a recent change"
// (current for longer than policy.maxRevisionAgeSeconds) read this one time.
//
// Evidence, by how the object got to be current:
// - a ReplicaSet never renumbered (no `revision-history` annotation) became current once, when it
//   was created: its creationTimestamp is exact;
// - a reused ReplicaSet became current when someone wrote the Deployment's pod template back to
//   it (`kubectl rollout undo`, an apply of the old spec): the latest managedFields time of the
//   managers owning fields under spec.template. That time moves again when the same manager later
//   changes other fields, so it errs late: "moved on" more often (a skip, the safe direction),
//   and a revision looks younger than it is to maxRevisionAgeSeconds (a rollback may still be
//   attempted for a revision older than the limit). Without that record, the ReplicaSet's own
//   managedFields time (the controller renumbers it on reuse, but also rescales it) errs late too;
// - a ControllerRevision is immutable except for `.revision`, so its latest managedFields time is
//   when the controller created or renumbered it (exact, up to managedFields' 1 s precision).
// No evidence for a reused revision: unknown, and the caller skips (never guesses early).
import type {
  ManagedFieldsEntry,
  RevisionEntry,
  Workload,
  WorkloadKind,
} from '../../kube/kube-types.js';

export type BecameCurrent = { at: string; evidence: string } | { at?: undefined; evidence: string };

export function becameCurrent(
  kind: WorkloadKind,
  workload: Workload,
  current: RevisionEntry,
): BecameCurrent {
  const created = current.createdAt;
  // A Rollout, like a Deployment, keeps its revisions in ReplicaSets.
  if (kind === 'StatefulSet' || kind === 'DaemonSet') {
    const at = latest([created, current.changedAt]);
    if (at === undefined)
      return { evidence: `ControllerRevision ${current.name} has no timestamps` };
    return {
      at,
      evidence:
        current.changedAt && at === current.changedAt && at !== created
          ? `ControllerRevision ${current.name} renumbered at ${at}`
          : `ControllerRevision ${current.name} created at ${at}`,
    };
  }
  if (current.previousRevisions.length === 0) {
    if (created === undefined)
      return { evidence: `ReplicaSet ${current.name} has no creation time` };
    return { at: created, evidence: `ReplicaSet ${current.name} created at ${created}` };
  }
  const written = templateWrittenAt(workload);
  if (written) {
    const at = latest([created, written.at]) as string;
    return {
      at,
      evidence: `ReplicaSet ${current.name} reused; pod template last written by ${written.manager} at ${written.at}`,
    };
  }
  if (current.changedAt) {
    const at = latest([created, current.changedAt]) as string;
    return { at, evidence: `ReplicaSet ${current.name} reused; last changed at ${at}` };
  }
  return {
    evidence: `ReplicaSet ${current.name} was reused (earlier revisions ${current.previousRevisions.join(', ')}) and the API server recorded no managedFields times`,
  };
}

/** The newest managedFields time of a manager owning anything under the main resource's spec.template. */
export function templateWrittenAt(workload: Workload): { at: string; manager: string } | undefined {
  let best: { at: string; manager: string } | undefined;
  for (const entry of workload.metadata.managedFields ?? []) {
    if (entry.subresource || !entry.time || !ownsTemplate(entry)) continue;
    if (!best || Date.parse(entry.time) > Date.parse(best.at)) {
      best = { at: entry.time, manager: entry.manager ?? 'an unnamed manager' };
    }
  }
  return best;
}

/** The newest managedFields time on an object's main resource (status writes excluded). */
export function mainResourceChangedAt(
  entries: ManagedFieldsEntry[] | undefined,
): string | undefined {
  return latest((entries ?? []).filter((e) => !e.subresource).map((e) => e.time));
}

function ownsTemplate(entry: ManagedFieldsEntry): boolean {
  const spec = entry.fieldsV1?.['f:spec'];
  return typeof spec === 'object' && spec !== null && 'f:template' in spec;
}

function latest(times: Array<string | undefined>): string | undefined {
  let best: string | undefined;
  for (const t of times) {
    if (t === undefined || !Number.isFinite(Date.parse(t))) continue;
    if (best === undefined || Date.parse(t) > Date.parse(best)) best = t;
  }
  return best;
}

/** "3 days", "5 h 12 min", "40 s": for reasons a human reads. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  const days = Math.floor(h / 24);
  return `${days} days${h % 24 ? ` ${h % 24} h` : ''}`;
}
