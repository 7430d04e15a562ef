// Simulated kubelets: Node objects kept Ready, and every pod bound to one of them (by the real
// scheduler) reported Running and Ready after a short delay, as a kubelet would. An image tag
// can ask otherwise: `:never-ready` runs but never becomes Ready; `:crashloop` restarts over and
// over (CrashLoopBackOff) and is never Ready. Deleted pods are confirmed gone at once (grace 0),
// as a kubelet does once the containers stopped.
import type { KubeHttp } from './kube-http.js';

export interface KubeletOptions {
  nodes: string[];
  /** Delay before a new pod reports Ready (default 300 ms). */
  readyDelayMs?: number;
  /** How often a `:crashloop` container restarts (default 1000 ms). */
  restartEveryMs?: number;
}

export interface Kubelets {
  stop(): void;
}

type Behaviour = 'ready' | 'never-ready' | 'crashloop';

function behaviourOf(pod: any): Behaviour {
  const tags = (pod.spec?.containers ?? []).map((c: any) => String(c.image).split('/').at(-1));
  if (tags.some((t: string) => t.endsWith(':crashloop'))) return 'crashloop';
  if (tags.some((t: string) => t.endsWith(':never-ready'))) return 'never-ready';
  return 'ready';
}

export async function createNodes(http: KubeHttp, names: string[]): Promise<void> {
  for (const [i, name] of names.entries()) {
    await http.ok('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    });
    const now = new Date().toISOString();
    const resources = { cpu: '16', memory: '64Gi', pods: '250' };
    await http.ok(
      'PATCH',
      `/api/v1/nodes/${name}/status`,
      {
        status: {
          capacity: resources,
          allocatable: resources,
          addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 10}` }],
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'simulated kubelet is ready',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
          nodeInfo: {
            kubeletVersion: 'v0.0.0-simulated',
            operatingSystem: 'linux',
            architecture: 'amd64',
          },
        },
      },
      'application/merge-patch+json',
    );
  }
}

export function startKubelets(http: KubeHttp, o: KubeletOptions): Kubelets {
  const readyDelay = o.readyDelayMs ?? 300;
  const restartEvery = o.restartEveryMs ?? 1000;
  const nodes = new Set(o.nodes);
  const timers = new Map<string, NodeJS.Timeout>();
  const started = new Set<string>();
  const deleting = new Set<string>();
  let stopped = false;
  let watch: { stop(): void } | undefined;
  let podIp = 1;

  const report = (pod: any, status: Record<string, unknown>) =>
    http
      .call(
        'PATCH',
        `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`,
        { status },
        'application/strategic-merge-patch+json',
      )
      .catch(() => undefined);

  const statusFor = (pod: any, behaviour: Behaviour, restarts: number) => {
    const now = new Date().toISOString();
    const ready = behaviour === 'ready';
    const cond = (type: string, ok: boolean) => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: now,
      ...(ok ? {} : { reason: 'ContainersNotReady' }),
    });
    return {
      phase: 'Running',
      hostIP: '10.0.0.10',
      podIP: pod.status?.podIP ?? `10.244.${Math.floor(podIp / 250)}.${(podIp++ % 250) + 1}`,
      startTime: pod.status?.startTime ?? now,
      conditions: [cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready)],
      containerStatuses: (pod.spec.containers as any[]).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        containerID: `containerd://${pod.metadata.uid}-${c.name}-${restarts}`,
        ready,
        started: behaviour !== 'crashloop',
        restartCount: restarts,
        state:
          behaviour === 'crashloop'
            ? {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: 'back-off restarting failed container',
                },
              }
            : { running: { startedAt: now } },
        ...(behaviour === 'crashloop' && restarts > 0
          ? { lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: now } } }
          : {}),
      })),
    };
  };

  const forget = (uid: string) => {
    clearTimeout(timers.get(uid));
    timers.delete(uid);
  };

  const handle = (type: string, pod: any) => {
    if (stopped || !pod?.metadata) return;
    const uid: string = pod.metadata.uid;
    if (type === 'DELETED') {
      forget(uid);
      started.delete(uid);
      deleting.delete(uid);
      return;
    }
    if (!nodes.has(pod.spec?.nodeName)) return;
    if (pod.metadata.deletionTimestamp) {
      forget(uid);
      if (deleting.has(uid)) return;
      deleting.add(uid);
      void http
        .call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          gracePeriodSeconds: 0,
          preconditions: { uid },
        })
        .catch(() => undefined);
      return;
    }
    if (started.has(uid)) return;
    started.add(uid);
    const behaviour = behaviourOf(pod);
    let restarts = 0;
    const tick = () => {
      if (stopped || !started.has(uid)) return;
      void report(pod, statusFor(pod, behaviour, restarts));
      if (behaviour === 'crashloop') {
        restarts++;
        timers.set(uid, setTimeout(tick, restartEvery));
      } else timers.delete(uid);
    };
    timers.set(uid, setTimeout(tick, readyDelay));
  };

  const listAndWatch = async (): Promise<void> => {
    if (stopped) return;
    try {
      const list = await http.ok('GET', '/api/v1/pods');
      for (const pod of list.items as any[]) handle('ADDED', pod);
      watch = http.watch('/api/v1/pods', list.metadata.resourceVersion, handle, () => {
        if (!stopped) setTimeout(() => void listAndWatch(), 100);
      });
    } catch {
      if (!stopped) setTimeout(() => void listAndWatch(), 200);
    }
  };
  void listAndWatch();

  return {
    stop() {
      stopped = true;
      watch?.stop();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
