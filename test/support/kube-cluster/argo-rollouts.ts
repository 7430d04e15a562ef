// The real Argo Rollouts controller on the test cluster: built from the Go module proxy by
// test/cluster/build-argo-rollouts.sh (cached under .tools/), its CRDs created from the module's
// manifests/crds (the Rollout CRD is too large for a client-side apply), and the controller run
// as its own ServiceAccount, so its requests are told apart from ours in the audit log.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../demo/free-port.js';
import type { KubeCluster } from './index.js';
import { startProc, type Proc } from './processes.js';

const SCRIPT = resolve(import.meta.dirname, '../../cluster/build-argo-rollouts.sh');
let cached: string | undefined;

/** The tools folder: bin/rollouts-controller and crds/*.yaml (built on first use). */
export function argoRolloutsTools(): string {
  if (cached) return cached;
  try {
    const out = execFileSync('bash', [SCRIPT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cached = out.trim().split('\n').at(-1)!;
  } catch (e) {
    throw new Error(
      `the Argo Rollouts build failed (${(e as Error).message}); run \`bash test/cluster/build-argo-rollouts.sh\` to see why`,
    );
  }
  return cached;
}

export interface ArgoRolloutsController {
  /** The controller's audit user. */
  user: string;
  proc: Proc;
  logs(lines?: number): string;
  stop(): Promise<void>;
}

export async function startArgoRollouts(cluster: KubeCluster): Promise<ArgoRolloutsController> {
  const tools = argoRolloutsTools();
  const crds = join(tools, 'crds');
  for (const file of readdirSync(crds)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    await cluster.kubectl(['create', '-f', join(crds, file)]);
  }
  await cluster.waitCrdsEstablished();

  const ns = 'argo-rollouts';
  await cluster.createNamespace(ns);
  await cluster.http.ok('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
    metadata: { name: 'argo-rollouts' },
  });
  await cluster.http.ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'argo-rollouts-cluster-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'argo-rollouts', namespace: ns }],
  });
  const kubeconfig = await cluster.serviceAccountKubeconfig(ns, 'argo-rollouts');
  const proc = startProc(
    'rollouts-controller',
    join(tools, 'bin', 'rollouts-controller'),
    [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--metricsPort=${await freePort()}`,
      `--healthzPort=${await freePort()}`,
      '--loglevel=info',
      '--qps=200',
      '--burst=400',
    ],
    join(cluster.dir, 'rollouts-controller.log'),
  );
  return {
    user: `system:serviceaccount:${ns}:argo-rollouts`,
    proc,
    logs: (lines = 40) => proc.tail(lines),
    stop: () => proc.stop(),
  };
}
