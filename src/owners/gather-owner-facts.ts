// Confirms what a workload's labels and annotations claim against the owner objects themselves
// (contract.md "Workloads managed by GitOps or Helm": an Application named by the instance label counts only when it exists), and follows
// app-of-apps parents. Reads only.
import type { CustomObject, KubeClient } from '../kube/kube-client.js';
import { KubeNotFoundError } from '../kube/kube-errors.js';
import type { ObjectRef } from '../model/owner.js';
import { applicationSetOf, applicationSetRestoresSpec } from './argo-application.js';
import { findOwnerHints, type MetadataLike } from './find-owner-hints.js';
import type { ArgoApp, ArgoChain, Lookup, OwnerFacts } from './owner-facts.js';
import { gitopsRef, refText } from './owner-objects.js';

export interface GatherOptions {
  argocdNamespaces: readonly string[];
  signal?: AbortSignal;
  /** Retries transient failures (the executor's policy). */
  retry<T>(fn: () => Promise<T>): Promise<T>;
}

const MAX_DEPTH = 6;

export async function gatherOwnerFacts(
  client: Pick<KubeClient, 'readObject'>,
  workload: ObjectRef,
  meta: MetadataLike,
  o: GatherOptions,
): Promise<OwnerFacts> {
  const read = (ref: ObjectRef): Promise<Lookup<CustomObject>> =>
    o
      .retry(() => client.readObject(ref, o.signal))
      .then(
        (found) => ({ found }),
        (err: unknown) =>
          err instanceof KubeNotFoundError ? { missing: true as const } : { error: message(err) },
      );
  const hints = findOwnerHints(meta, o.argocdNamespaces);
  const facts: OwnerFacts = { workload, annotations: meta.annotations ?? {}, hints };

  if (hints.argocd) {
    const chain = await argoChain(meta, read, o.argocdNamespaces);
    if (chain) facts.argocd = chain;
  }
  if (!facts.argocd && hints.fluxHelmRelease) facts.helmRelease = await read(hints.fluxHelmRelease);
  return facts;
}

/** The managing Application, then each parent whose tracking names it, up to MAX_DEPTH. */
async function argoChain(
  meta: MetadataLike,
  read: (ref: ObjectRef) => Promise<Lookup<CustomObject>>,
  namespaces: readonly string[],
): Promise<ArgoChain | undefined> {
  const apps: ArgoApp[] = [];
  const seen = new Set<string>();
  let current: MetadataLike = meta;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const hint = findOwnerHints(current, namespaces).argocd;
    if (!hint) break;
    let next: { ref: ObjectRef; app: CustomObject } | undefined;
    for (const ref of hint.candidates) {
      const got = await read(ref);
      if ('found' in got) {
        next = { ref, app: got.found };
        break;
      }
      // A tracking id is certain: not being able to read it means not knowing who reverts.
      // An instance label is only a guess (Helm sets it too): unconfirmed means not Argo CD.
      if ('error' in got && hint.via === 'tracking-id') return { error: got.error, ref };
    }
    if (!next || seen.has(refText(next.ref))) break;
    seen.add(refText(next.ref));
    const app: ArgoApp = { ref: next.ref, app: next.app };
    const appSetName = applicationSetOf(next.app);
    if (appSetName) {
      const got = await read(gitopsRef('ApplicationSet', next.ref.namespace, appSetName));
      app.appSet =
        'found' in got
          ? { name: appSetName, restores: applicationSetRestoresSpec(got.found, next.ref.name) }
          : 'missing' in got
            ? { name: appSetName, restores: false }
            : { name: appSetName, error: got.error };
    }
    apps.push(app);
    current = { ...next.app.metadata, namespace: next.ref.namespace };
  }
  return apps.length ? { apps } : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
