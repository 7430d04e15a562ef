// Who else manages a workload (contract.md "Workloads managed by GitOps or Helm"), and what a job did
// about it. Plain JSON: it rides on the job into the journal, /jobs, Slack and /status.

/** The `owner` metric label: a closed set. */
export type OwnerKind = 'argocd' | 'flux_kustomization' | 'flux_helmrelease' | 'helm' | 'none';
/** The `action` metric label. */
export type OwnerAction = 'suspended' | 'skipped' | 'noted';

/** A Kubernetes object by API group/version, kind and name. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** One object the controller changed so that a GitOps owner stops reverting the rollback. */
export interface SuspendedOwner {
  owner: Exclude<OwnerKind, 'none' | 'helm'>;
  /** The object that was changed: an Application, a HelmRelease, or the workload (Flux Kustomization). */
  object: ObjectRef;
  /** `owner`: manages the workload; `parent`: an app-of-apps parent that would turn it back on. */
  role: 'owner' | 'parent';
  /** What was changed, for people. */
  change: string;
  /** The exact command that undoes the change once Git is fixed. */
  resumeCommand: string;
  /** What was removed, to put it back if the rollback patch never happens (Argo CD `automated`). */
  previous?: unknown;
  suspendedAt: string;
  /** Set when the controller noticed that a human turned it back on (or the object is gone). */
  resumedAt?: string;
}

/** The owner decision recorded on a job (and shown by the dry run). */
export interface JobOwner {
  owner: OwnerKind;
  /** `Application argocd/checkout`, `HelmRelease shop/checkout`... */
  name?: string;
  /** What the job did (or, in a dry run, would do); absent when there is no owner. */
  action?: OwnerAction;
  reason: string;
  /** What a human must do (skips, Helm notes). */
  advice?: string;
  suspended?: SuspendedOwner[];
}

export function ownerKey(o: Pick<SuspendedOwner, 'object'>): string {
  const { apiVersion, kind, namespace, name } = o.object;
  return `${apiVersion.split('/')[0] ?? ''}/${kind}/${namespace}/${name}`;
}
