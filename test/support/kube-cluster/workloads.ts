// Workloads on the real test cluster, with the same options as the fake's (`WorkloadOptions`),
// so one scenario can run on both. On the real cluster a DaemonSet runs one pod per node.
import type { WorkloadKind, WorkloadOptions } from '../fake-kube/types.js';
import type { KubeHttp } from './kube-http.js';

const plural: Record<string, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  ControllerRevision: 'controllerrevisions',
};

export function workloadPath(kind: string, ns: string, name?: string): string {
  const resource = plural[kind];
  if (!resource) throw new Error(`no apps/v1 resource for kind ${kind}`);
  return `/apis/apps/v1/namespaces/${ns}/${resource}${name ? `/${name}` : ''}`;
}

export function workloadManifest(kind: WorkloadKind, ns: string, name: string, o: WorkloadOptions) {
  const labels = o.labels ?? { app: name };
  const containers = o.containers ?? [{ name, image: o.image }];
  const spec: Record<string, unknown> = {
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers } },
  };
  if (kind !== 'DaemonSet') spec['replicas'] = o.replicas ?? 1;
  if (kind === 'StatefulSet') spec['serviceName'] = name;
  if (o.progressDeadlineSeconds !== undefined)
    spec['progressDeadlineSeconds'] = o.progressDeadlineSeconds;
  if (o.paused) spec['paused'] = true;
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: {
      name,
      namespace: ns,
      labels,
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec,
  };
}

export async function createWorkload(
  http: KubeHttp,
  kind: WorkloadKind,
  ns: string,
  name: string,
  o: WorkloadOptions,
): Promise<any> {
  return http.ok('POST', workloadPath(kind, ns), workloadManifest(kind, ns, name, o));
}

/** Like `kubectl set image` (a strategic merge patch of the named container, or all of them). */
export async function setImage(
  http: KubeHttp,
  kind: WorkloadKind,
  ns: string,
  name: string,
  image: string,
  container?: string,
): Promise<void> {
  const current = await http.ok('GET', workloadPath(kind, ns, name));
  const names = (current.spec.template.spec.containers as Array<{ name: string }>)
    .map((c) => c.name)
    .filter((n) => container === undefined || n === container);
  if (names.length === 0) throw new Error(`${kind} ${ns}/${name} has no container ${container}`);
  await http.ok(
    'PATCH',
    workloadPath(kind, ns, name),
    { spec: { template: { spec: { containers: names.map((n) => ({ name: n, image })) } } } },
    'application/strategic-merge-patch+json',
  );
}

export async function getWorkload(
  http: KubeHttp,
  kind: string,
  ns: string,
  name: string,
): Promise<any> {
  return http.ok('GET', workloadPath(kind, ns, name));
}

/** Whether `kubectl rollout status` would call the rollout complete. */
export function rolledOut(kind: string, w: any): boolean {
  const s = w.status ?? {};
  if ((s.observedGeneration ?? 0) < w.metadata.generation) return false;
  if (kind === 'Deployment') {
    const want = w.spec.replicas ?? 1;
    return (
      (s.updatedReplicas ?? 0) >= want &&
      (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
      (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0)
    );
  }
  if (kind === 'StatefulSet') {
    const want = w.spec.replicas ?? 1;
    return (
      (s.readyReplicas ?? 0) >= want &&
      (s.updatedReplicas ?? 0) >= want &&
      !!s.updateRevision &&
      s.currentRevision === s.updateRevision
    );
  }
  if (kind === 'DaemonSet') {
    const want = s.desiredNumberScheduled ?? 0;
    return want > 0 && (s.updatedNumberScheduled ?? 0) >= want && (s.numberAvailable ?? 0) >= want;
  }
  throw new Error(`no rollout rules for ${kind}`);
}

/** Polls until `predicate` holds for the workload; the error names the last status seen. */
export async function waitWorkload(
  http: KubeHttp,
  kind: string,
  ns: string,
  name: string,
  predicate: (w: any) => boolean,
  ms = 60_000,
  what = 'the expected state',
): Promise<any> {
  const end = Date.now() + ms;
  let last: any;
  for (;;) {
    last = await getWorkload(http, kind, ns, name).catch(() => undefined);
    if (last && predicate(last)) return last;
    if (Date.now() > end)
      throw new Error(
        `${kind} ${ns}/${name} did not reach ${what} in ${ms} ms; status: ${JSON.stringify(last?.status)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function waitRolledOut(
  http: KubeHttp,
  kind: string,
  ns: string,
  name: string,
  ms = 60_000,
): Promise<any> {
  return waitWorkload(http, kind, ns, name, (w) => rolledOut(kind, w), ms, 'a finished rollout');
}
