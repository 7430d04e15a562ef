// A fake Kubernetes API server for tests: real REST semantics for the workload kinds the rollback
// controller touches, and simulated Deployment/StatefulSet/DaemonSet controllers, good enough for
// the real kubectl (rollout history/undo/status, get, set image) and @kubernetes/client-node.
import { rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { workloadKey, type SimState } from './controllers/common.js';
import { DaemonSetController } from './controllers/daemonset.js';
import { DeploymentController } from './controllers/deployment.js';
import { ControllerLoop } from './controllers/loop.js';
import { ReplicaSetController } from './controllers/replicaset.js';
import { StatefulSetController } from './controllers/statefulset.js';
import { Faults } from './faults.js';
import { writeKubeconfig } from './kubeconfig.js';
import { Registry } from './registry.js';
import { resourceForKind } from './resources.js';
import { createRouter } from './router.js';
import { Store } from './store.js';
import type {
  FakeKube,
  FakeKubeOptions,
  RecordedRequest,
  Workload,
  WorkloadKind,
  WorkloadOptions,
} from './types.js';

export type {
  FakeKube,
  FakeKubeOptions,
  FaultRule,
  RecordedRequest,
  WorkloadKind,
  WorkloadOptions,
} from './types.js';

/**
 * The bearer token the kubeconfig carries. Not enforced: kubectl v1.33 sends no bearer token to
 * a plain-http server.
 */
export const fakeKubeToken = 'fake-kube-token';

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const store = new Store();
  const registry = new Registry(store);
  const state: SimState = {
    stuck: new Set(),
    deadlineScale: options.progressDeadlineScale ?? 1,
    daemonSetNodes: new Map(),
  };
  const loop = new ControllerLoop(
    [
      new ReplicaSetController(registry, state),
      new DeploymentController(registry, state),
      new StatefulSetController(registry, state),
      new DaemonSetController(registry, state),
    ],
    options.rolloutStepMs ?? 20,
    store,
  );
  const faults = new Faults();
  const requests: RecordedRequest[] = [];
  const watches = new Set<ServerResponse>();
  let url = '';
  const server = createServer(
    createRouter({
      registry,
      faults,
      requests,
      watches,
      serverAddress: () => url.slice('http://'.length),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = writeKubeconfig(url, fakeKubeToken);

  const createWorkload = async (
    kind: WorkloadKind,
    ns: string,
    name: string,
    opts: WorkloadOptions,
  ) => {
    const labels = opts.labels ?? { app: name };
    const containers = opts.containers ?? [{ name, image: opts.image }];
    const spec: Record<string, unknown> = {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers } },
    };
    if (kind === 'DaemonSet') state.daemonSetNodes.set(`${ns}/${name}`, opts.replicas ?? 1);
    else spec.replicas = opts.replicas ?? 1;
    if (opts.progressDeadlineSeconds !== undefined)
      spec.progressDeadlineSeconds = opts.progressDeadlineSeconds;
    if (opts.paused) spec.paused = true;
    const metadata = {
      name,
      labels,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    };
    return registry.create(resourceForKind(kind), ns, { metadata, spec }) as object;
  };

  return {
    url,
    kubeconfigPath: kubeconfig.path,
    requests,
    createDeployment: (ns, name, opts) => createWorkload('Deployment', ns, name, opts),
    createStatefulSet: (ns, name, opts) => createWorkload('StatefulSet', ns, name, opts),
    createDaemonSet: (ns, name, opts) => createWorkload('DaemonSet', ns, name, opts),
    async setImage(kind, ns, name, image, container) {
      const type = resourceForKind(kind);
      const workload = registry.get(type, ns, name) as Workload;
      const containers = workload.spec.template.spec.containers;
      const targets = containers.filter((c) => container === undefined || c.name === container);
      if (targets.length === 0)
        throw new Error(`${kind} ${ns}/${name} has no container ${container}`);
      for (const c of targets) c.image = image;
      registry.update(type, ns, name, workload);
    },
    get: (kind, ns, name) =>
      store.get(resourceForKind(kind), resourceForKind(kind).namespaced ? ns : '', name),
    list: (kind, ns) => {
      const type = resourceForKind(kind);
      return store.list(type, type.namespaced ? ns : undefined);
    },
    settle: () => loop.settle(),
    async waitFor(kind, ns, name, predicate, timeoutMs = 10_000) {
      const type = resourceForKind(kind);
      const holds = () => predicate(store.get(type, type.namespaced ? ns : '', name));
      if (holds()) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          unsubscribe();
          reject(
            new Error(
              `fake-kube: ${kind} ${ns}/${name} did not reach the expected state in ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        const unsubscribe = store.subscribe(() => {
          if (!holds()) return;
          clearTimeout(timer);
          unsubscribe();
          resolve();
        });
      });
    },
    stickRollouts(kind, ns, name, stuck) {
      const key = workloadKey(kind, ns, name);
      if (stuck) state.stuck.add(key);
      else state.stuck.delete(key);
      loop.kick();
    },
    injectFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    async close() {
      loop.close();
      for (const res of watches) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(kubeconfig.dir, { recursive: true, force: true });
    },
  };
}
