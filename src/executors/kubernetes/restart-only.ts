// `kubectl rollout restart` (and the dashboards that copy it) writes a time stamp annotation into
// the pod template: a new revision that is not a deploy (contract.md "Kubernetes rollback semantics"). The deploy to blame is the
// newest revision below the current one that is more than a restart of the one before it.
import type { PodTemplate, RevisionEntry, RevisionHistory } from '../../kube/kube-types.js';
import { templatesEqual } from './templates-equal.js';

/** Pod template annotations that only ask for new pods (kubectl, Rancher). */
export const RESTART_ANNOTATIONS: readonly string[] = [
  'kubectl.kubernetes.io/restartedAt',
  'cattle.io/timestamp',
];

/** Whether `a` differs from `b` in restart annotations only (and in something). */
export function restartOnly(a: PodTemplate, b: PodTemplate): boolean {
  return !templatesEqual(a, b) && templatesEqual(withoutRestart(a), withoutRestart(b));
}

export interface BlamedDeploy {
  /** The deploy blamed: the current revision, or the one the current one only restarts. */
  blamed: RevisionEntry;
  /** Restart-only revisions above it, newest first (empty when the current one is a deploy). */
  restarts: RevisionEntry[];
  /** What a rollback goes back to: the newest revision below the blamed one. */
  target?: RevisionEntry;
}

export function blamedDeploy(
  current: RevisionEntry,
  entries: RevisionHistory['entries'],
): BlamedDeploy {
  const below = (e: RevisionEntry) => entries.filter((o) => o.revision < e.revision).at(-1);
  const restarts: RevisionEntry[] = [];
  let blamed = current;
  for (let before = below(blamed); before && restartOnly(blamed.template, before.template);) {
    restarts.push(blamed);
    blamed = before;
    before = below(blamed);
  }
  const target = below(blamed);
  return { blamed, restarts, ...(target ? { target } : {}) };
}

function withoutRestart(template: PodTemplate): PodTemplate {
  const copy = structuredClone(template);
  const annotations = copy.metadata?.annotations;
  if (annotations) for (const key of RESTART_ANNOTATIONS) delete annotations[key];
  return copy;
}
