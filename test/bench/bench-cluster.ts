// The fake cluster for the latency and storm runs: Deployments with a good revision (v1) and a
// bad one (v2), and the moment each rollback's template PATCH arrives. The fake records requests
// without timestamps, so the bench stamps them as they are recorded (after the body is read,
// before the fake handles it). Each workload gets its own namespace: the fake's simulated
// controllers list and sort a whole namespace per workload on every step, which grows with the
// square of the workloads sharing one.
import { startFakeKube, type FakeKube, type RecordedRequest } from '../support/fake-kube/index.js';

export interface BenchCluster {
  fake: FakeKube;
  /** Real (not dry-run) PATCHes of Deployments: `ns/name` → arrival times (performance.now()). */
  patches: Map<string, number[]>;
  /** Resolves with the arrival time of the next real PATCH of the Deployment `ns/name`. */
  nextPatch(ns: string, name: string): Promise<number>;
  /** The image the Deployment's first container runs now. */
  image(ref: BenchWorkload): string;
  close(): Promise<void>;
}

export interface BenchWorkload {
  ns: string;
  name: string;
}

const DEPLOYMENT = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/;

/** `count` Deployments `svc` in namespaces `<prefix>-0` … `<prefix>-<count-1>`. */
export function benchWorkloads(prefix: string, count: number): BenchWorkload[] {
  return Array.from({ length: count }, (_, i) => ({ ns: `${prefix}-${i}`, name: 'svc' }));
}

export async function startBenchCluster(
  workloads: BenchWorkload[],
  rolloutStepMs: number,
): Promise<BenchCluster> {
  const fake = await startFakeKube({ rolloutStepMs });
  for (const w of workloads)
    await fake.createDeployment(w.ns, w.name, { image: `shop/${w.name}:v1` });
  await fake.settle();
  for (const w of workloads) await fake.setImage('Deployment', w.ns, w.name, `shop/${w.name}:v2`);
  await fake.settle();

  const patches = new Map<string, number[]>();
  const waiting = new Map<string, (at: number) => void>();
  const push = fake.requests.push.bind(fake.requests);
  fake.requests.push = (...items: RecordedRequest[]) => {
    const at = performance.now();
    for (const r of items) {
      const m = DEPLOYMENT.exec(r.path);
      if (r.method !== 'PATCH' || !m || r.query['dryRun']) continue;
      const key = `${m[1]}/${m[2]}`;
      patches.set(key, [...(patches.get(key) ?? []), at]);
      waiting.get(key)?.(at);
      waiting.delete(key);
    }
    return push(...items);
  };
  return {
    fake,
    patches,
    nextPatch: (ns, name) => new Promise((ok) => waiting.set(`${ns}/${name}`, ok)),
    image: (w) => fake.get('Deployment', w.ns, w.name).spec.template.spec.containers[0].image,
    close: () => fake.close(),
  };
}
