// Waiting for CustomResourceDefinitions to be served. `kubectl wait --for=condition=Established`
// is not used: kubectl 1.33 fails at once ("accessor error") on a CRD the API server has just
// created with `status.conditions: null`, instead of waiting (it failed a CI run that way).
import type { KubeHttp } from './kube-http.js';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function established(crd: any): boolean {
  const conditions: any[] = Array.isArray(crd?.status?.conditions) ? crd.status.conditions : [];
  return conditions.some((c) => c?.type === 'Established' && c?.status === 'True');
}

/** Resolves once every CRD named (all of them when `names` is empty) is Established. */
export async function waitCrdsEstablished(
  http: KubeHttp,
  names: string[] = [],
  ms = 60_000,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const list = await http.ok('GET', CRDS);
    const items: any[] = list.items ?? [];
    const wanted = names.length ? items.filter((c) => names.includes(c.metadata.name)) : items;
    const missing = names.filter((n) => !items.some((c) => c.metadata.name === n));
    const pending = wanted.filter((c) => !established(c)).map((c) => c.metadata.name as string);
    if (missing.length === 0 && pending.length === 0) return;
    if (Date.now() > end)
      throw new Error(
        `CRDs not Established within ${ms} ms: ${[...missing, ...pending].join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
