// When a revision became current, from what the API server records (contract.md "Kubernetes rollback
// semantics": a reused ReplicaSet or ControllerRevision keeps its old creation time). Two bounds,
// each erring only in the direction that skips (contract.md "Kubernetes rollback semantics": err late):
// - `at`, the latest it may have become current, for "moved on" (became current after the alert
//   started): API times are whole seconds, so `at` stands for any instant up to at + 999 ms
//   (`latestInstant`), and a time that may be later than the truth is fine here (it skips);
// - `since`, the earliest, for "only blame a recent change" (current for longer than
//   policy.maxRevisionAgeSeconds): only a time that can never be later than the truth.
//
// Evidence, by how the object got to be current:
// - a revision never reused (a ReplicaSet without `revision-history`, a ControllerRevision never
//   renumbered) became current once, when it was created: creationTimestamp is both bounds;
// - a reused ReplicaSet became current when someone wrote the Deployment's pod template back to
//   it (`kubectl rollout undo`, an apply of the old spec): `at` is the latest managedFields time
//   of the managers owning fields under spec.template, else the ReplicaSet's own (renumbering)
//   managedFields time. A manager's time moves on every write it makes (a replicas-only apply
//   moves it too), so it may be far later than the truth: never a `since`;
// - a renumbered ControllerRevision: its managedFields time is when the controller renumbered
//   it (it is immutable but for `.revision`), which is after the human's write: `at` only;
// - `since` for a reused revision is the creation of the newest revision numbered below it:
//   every such revision was created before it became current again. No such record: unknown.
// No time at all: unknown, and the caller skips (never guesses early).
import type {
  ManagedFieldsEntry,
  RevisionEntry,
  RevisionHistory,
  Workload,
  WorkloadKind,
} from '../../kube/kube-types.js';

export interface BecameCurrent {
  /** Latest API time it may have become current (see latestInstant); undefined: unknown. */
  at?: string;
  /** Earliest it may have become current (never later than the truth); undefined: unknown. */
  since?: string;
  evidence: string;
  /** How `since` was found, when it is not the revision's own creation. */
  sinceEvidence?: string;
}

export function becameCurrent(
  kind: WorkloadKind,
  workload: Workload,
  entry: RevisionEntry,
  history: Pick<RevisionHistory, 'entries' | 'current'>,
): BecameCurrent {
  const created = entry.createdAt;
  const isCurrent = history.current?.name === entry.name;
  // A Rollout, like a Deployment, keeps its revisions in ReplicaSets.
  const replicaSets = kind === 'Deployment' || kind === 'Rollout';
  const object = replicaSets ? 'ReplicaSet' : 'ControllerRevision';
  const reused = replicaSets
    ? entry.previousRevisions.length > 0
    : entry.changedAt !== undefined &&
      created !== undefined &&
      Math.floor(Date.parse(entry.changedAt) / 1000) > Math.floor(Date.parse(created) / 1000);
  if (!reused) {
    if (created === undefined) return { evidence: `${object} ${entry.name} has no creation time` };
    return {
      at: created,
      since: created,
      evidence: `${object} ${entry.name} created at ${created}`,
    };
  }
  const bound = sinceBound(entry, history.entries);
  const written = replicaSets && isCurrent ? templateWrittenAt(workload) : undefined;
  const late = written?.at ?? entry.changedAt;
  const at = late === undefined ? undefined : latest([created, late]);
  const evidence = !replicaSets
    ? `ControllerRevision ${entry.name} renumbered at ${at ?? '?'}`
    : written
      ? `ReplicaSet ${entry.name} reused; pod template last written by ${written.manager} at ${written.at}`
      : entry.changedAt
        ? `ReplicaSet ${entry.name} reused; last changed at ${at ?? '?'}`
        : `ReplicaSet ${entry.name} was reused (earlier revisions ${entry.previousRevisions.join(', ')}) and the API server recorded no managedFields times`;
  return {
    ...(at !== undefined ? { at } : {}),
    ...(bound ? { since: bound.at, sinceEvidence: bound.evidence } : {}),
    evidence,
  };
}

/** The newest creation time among the revisions numbered below `entry` (see the header). */
function sinceBound(
  entry: RevisionEntry,
  entries: RevisionEntry[],
): { at: string; evidence: string } | undefined {
  let best: RevisionEntry | undefined;
  for (const e of entries) {
    if (e.revision >= entry.revision || e.createdAt === undefined) continue;
    if (!best || Date.parse(e.createdAt) > Date.parse(best.createdAt as string)) best = e;
  }
  if (!best?.createdAt) return undefined;
  return {
    at: best.createdAt,
    evidence: `it was reused, and revision ${best.revision} (${best.name}), created at ${best.createdAt}, came before it; no later time is certain`,
  };
}

/**
 * The latest instant (ms) an API time may stand for: metadata times are truncated to the second,
 * so `12:00:05Z` may be as late as 12:00:05.999. The client library hands them out as
 * `12:00:05.000Z`, so any time on a whole second counts as truncated (a skip at worst).
 */
export function latestInstant(time: string): number {
  const ms = Date.parse(time);
  return ms % 1000 === 0 ? ms + 999 : ms;
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
