// The process's one way into Kubernetes: the kubeconfig loaded once (load-kube-config.ts) and
// the one client built over it, or why there is none. app.ts calls this once and hands the
// result to the executors, high availability and the script opt-out.
import { createKubeClient, type KubeClient } from './kube-client.js';
import { createWatchCache, type WatchCache, type WatchCacheOptions } from './watch-cache.js';
import { loadKubeConfig, type KubeTarget, type LoadKubeConfigOptions } from './load-kube-config.js';

/**
 * `target`: the API server and context the client talks to, named wherever the controller acts.
 * `watchCache`: starts the watch cache over the same kubeconfig (absent for test clients).
 */
export type KubeAccess =
  | {
      client: KubeClient;
      target?: KubeTarget;
      watchCache?: (o: Omit<WatchCacheOptions, 'review'>) => WatchCache;
    }
  | { reason: string };

export function connectKube(
  options: LoadKubeConfigOptions & { requestTimeoutMs?: number } = {},
): KubeAccess {
  const { requestTimeoutMs = 10_000, ...load } = options;
  const loaded = loadKubeConfig(load);
  if ('reason' in loaded) return loaded;
  const client = createKubeClient(loaded.kubeConfig, { requestTimeoutMs });
  return {
    client,
    target: loaded.target,
    watchCache: (o) =>
      createWatchCache(loaded.kubeConfig, { ...o, review: (a) => client.reviewAccess(a) }),
  };
}
