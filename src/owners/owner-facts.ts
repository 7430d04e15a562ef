// What the controller learned about a workload's owners from the cluster: the input of the pure
// owner plan. Filled in by gather-owner-facts.ts.
import type { ObjectRef } from '../model/owner.js';
import type { OwnerHints } from './find-owner-hints.js';
import type { GitOpsObject } from './owner-objects.js';

export type Lookup<T> = { found: T } | { missing: true } | { error: string };

export interface ArgoApp {
  ref: ObjectRef;
  app: GitOpsObject;
  /** The ApplicationSet that generated it, and whether it would restore its spec. */
  appSet?: { name: string; restores: boolean } | { name: string; error: string };
}

export type ArgoChain =
  /** The managing Application first, then the app-of-apps parents above it. */
  | { apps: ArgoApp[] }
  /** An Application the workload (or a child Application) names could not be read. */
  | { error: string; ref: ObjectRef };

export interface OwnerFacts {
  /** The workload itself (`apps/v1`). */
  workload: ObjectRef;
  /** Its current annotations (the Flux reconcile annotation may already be there). */
  annotations: Record<string, string>;
  hints: OwnerHints;
  argocd?: ArgoChain;
  helmRelease?: Lookup<GitOpsObject>;
}
