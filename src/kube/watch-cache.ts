// A watch cache of the workloads and their revision history (ReplicaSets, ControllerRevisions)
// in the allowed namespaces, over the client library's informers (makeInformer: list, then
// watch from the list's resourceVersion). It only ever answers "what a synced watch last saw" or
// "don't know" (undefined): the caller then reads the API server, and the rollback PATCH carries
// the resourceVersion it was planned on, so a stale answer fails there and is read again.
//
// Scope (the same split as the permission check, required-permissions.ts): exact names in
// policy.allowedNamespaces get one watch per namespace and resource; any glob (the default `*`)
// one cluster-wide watch per resource, whose objects outside the allowed namespaces are kept only
// as a name (the informer's own store needs one). A watch is started only where list and watch are
// both allowed (an access review first, so a Role-only install never sends a denied request);
// elsewhere reads simply stay direct. A watch that fails is unsynced (never answers) until it is
// restarted and has listed again.
//
// Memory: one copy of each allowed object in the wire format a direct read returns (the informer's
// own entry is trimmed to name, namespace and resourceVersion), indexed by controller owner.
import {
  ADD,
  AppsV1Api,
  DELETE,
  ERROR,
  UPDATE,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { Logger } from 'pino';
import type { WorkloadRef } from '../model/workload-ref.js';
import type { AccessAttributes } from './kube-client.js';
import type { ControllerRevision, ReplicaSet, Workload } from './kube-types.js';
import { namespacesToCheck } from './required-permissions.js';
import { defined } from '../model/defined.js';

export type CachedWorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export type HistoryKind = 'ReplicaSet' | 'ControllerRevision';
type CachedKind = CachedWorkloadKind | HistoryKind;

export interface WatchCache {
  /** The workload as a synced watch last saw it; undefined: not synced, not seen or not covered. */
  workload(ref: WorkloadRef): Workload | undefined;
  /** The ReplicaSets / ControllerRevisions whose controller is `uid`; undefined: not synced. */
  owned(kind: 'ReplicaSet', namespace: string, uid: string): ReplicaSet[] | undefined;
  owned(
    kind: 'ControllerRevision',
    namespace: string,
    uid: string,
  ): ControllerRevision[] | undefined;
  /** Resolves once every started watch has listed (or `timeoutMs` passed); for start-up and benches. */
  synced(timeoutMs: number): Promise<boolean>;
  stats(): { watches: number; synced: number; objects: number };
  stop(): Promise<void>;
}

/** What the cache needs of an informer (ListWatch): tests wrap one to hold its events back. */
export type CacheInformer = Informer<KubernetesObject> & { latestResourceVersion(): string };

export interface WatchCacheOptions {
  /** policy.allowedNamespaces (exact names or globs). */
  allowedNamespaces: string[];
  /** Whether a namespace is allowed and not denied (policy), for the cluster-wide watches. */
  allowed(namespace: string): boolean;
  /** SelfSubjectAccessReview (kube-client.ts reviewAccess). */
  review(a: AccessAttributes): Promise<{ allowed: boolean }>;
  log: Logger;
  /** Wraps each informer (by its watch path), e.g. a lagging watch in a test. */
  wrapInformer?: (path: string, informer: CacheInformer) => CacheInformer;
  /** Delay before restarting a failed watch (doubles up to a minute). */
  retryMs?: number;
  /** More objects than this in the allowed namespaces: the cache turns itself off (memory bound). */
  maxObjects?: number;
}

const RESOURCES: Record<CachedKind, { plural: string; model: string }> = {
  Deployment: { plural: 'deployments', model: 'V1Deployment' },
  StatefulSet: { plural: 'statefulsets', model: 'V1StatefulSet' },
  DaemonSet: { plural: 'daemonsets', model: 'V1DaemonSet' },
  ReplicaSet: { plural: 'replicasets', model: 'V1ReplicaSet' },
  ControllerRevision: { plural: 'controllerrevisions', model: 'V1ControllerRevision' },
};
type ListFn = () => Promise<KubernetesListObject<KubernetesObject>>;
const KINDS = Object.keys(RESOURCES) as CachedKind[];
const HISTORY = new Set<CachedKind>(['ReplicaSet', 'ControllerRevision']);

interface Watch {
  informer: CacheInformer;
  failed: boolean;
  listed: boolean;
  stopped: boolean;
  retries: number;
  timer: NodeJS.Timeout | undefined;
}

export function createWatchCache(kc: KubeConfig, o: WatchCacheOptions): WatchCache {
  const apps = kc.makeApiClient(AppsV1Api);
  const informerFor = (path: string, list: ListFn): CacheInformer => {
    // makeInformer returns a ListWatch, which has latestResourceVersion.
    const informer = makeInformer(kc, path, list) as unknown as CacheInformer;
    return o.wrapInformer ? o.wrapInformer(path, informer) : informer;
  };
  const retryMs = o.retryMs ?? 5000;
  const maxObjects = o.maxObjects ?? Infinity;
  const scopes = namespacesToCheck({ allowedNamespaces: o.allowedNamespaces });
  const clusterWide = scopes.includes('');
  const watches = new Map<string, Watch>();
  let stopped = false;
  /** kind → `ns/name` → object (workloads), or controller uid → `ns/name` → object (history). */
  const objects = new Map<CachedKind, Map<string, Map<string, KubernetesObject>>>(
    KINDS.map((k) => [k, new Map()]),
  );
  /** kind → `ns/name` → the index key it is filed under (to move or drop it on change). */
  const filedUnder = new Map<CachedKind, Map<string, string>>(KINDS.map((k) => [k, new Map()]));
  let objectCount = 0;

  const keyOf = (obj: KubernetesObject) => `${obj.metadata?.namespace}/${obj.metadata?.name}`;
  const indexOf = (kind: CachedKind, obj: KubernetesObject) =>
    HISTORY.has(kind)
      ? (obj.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid ?? '')
      : '';
  const drop = (kind: CachedKind, key: string) => {
    const index = filedUnder.get(kind)!.get(key);
    if (index === undefined) return;
    const bucket = objects.get(kind)!.get(index);
    if (bucket?.delete(key)) objectCount--;
    if (bucket?.size === 0) objects.get(kind)!.delete(index);
    filedUnder.get(kind)!.delete(key);
  };
  const put = (kind: CachedKind, raw: KubernetesObject) => {
    const key = keyOf(raw);
    const namespace = raw.metadata?.namespace ?? '';
    drop(kind, key);
    if (!stopped && (!clusterWide || o.allowed(namespace))) {
      // The same wire format as a direct read (kube-client.ts: the generated model, then JSON).
      const wire = JSON.parse(
        JSON.stringify(ObjectSerializer.deserialize(raw, RESOURCES[kind].model)),
      ) as KubernetesObject;
      const index = indexOf(kind, wire);
      const buckets = objects.get(kind)!;
      if (!buckets.has(index)) buckets.set(index, new Map());
      buckets.get(index)!.set(key, wire);
      filedUnder.get(kind)!.set(key, index);
      if (++objectCount > maxObjects) void overflow();
    }
    trim(raw);
  };
  /** Over the bound: every watch stops and every object goes; reads are direct from then on. */
  const overflow = async () => {
    if (stopped) return;
    stopped = true;
    for (const m of [...objects.values(), ...filedUnder.values()]) m.clear();
    objectCount = 0;
    o.log.warn(
      { maxObjects },
      'the watch cache holds more objects than watchCache.maxObjects: turned off, reads go to the API server (raise the bound with the memory limit, or list fewer allowed namespaces)',
    );
    await stopAll();
  };

  const start = (kind: CachedKind, scope: string) => {
    const { plural } = RESOURCES[kind];
    const path = `/apis/apps/v1${scope ? `/namespaces/${scope}` : ''}/${plural}`;
    // In pages (one consistent snapshot: the continue token keeps the first page's
    // resourceVersion), so a large namespace never sits in memory twice as one response.
    const list: ListFn = async () => {
      const items: KubernetesObject[] = [];
      let page: { metadata?: { resourceVersion?: string; _continue?: string }; items: unknown[] };
      let token: string | undefined;
      let kept = 0;
      do {
        page = (await listOf(apps, kind, scope, token)) as typeof page;
        const wire = JSON.parse(JSON.stringify(page.items)) as KubernetesObject[];
        items.push(...wire);
        kept += clusterWide
          ? wire.filter((obj) => o.allowed(obj.metadata?.namespace ?? '')).length
          : wire.length;
        // Over the bound already while listing: stop before the rest is even fetched.
        if (objectCount + kept > maxObjects) {
          void overflow();
          throw new Error('more objects than watchCache.maxObjects');
        }
        token = page.metadata?._continue || undefined;
      } while (token);
      return { metadata: defined({ resourceVersion: page.metadata?.resourceVersion }), items };
    };
    const w: Watch = {
      informer: informerFor(path, list),
      failed: false,
      listed: false,
      stopped: false,
      retries: 0,
      timer: undefined,
    };
    w.informer.on(ADD, (obj) => put(kind, obj));
    w.informer.on(UPDATE, (obj) => put(kind, obj));
    w.informer.on(DELETE, (obj) => drop(kind, keyOf(obj)));
    w.informer.on(ERROR, (err: unknown) => {
      w.failed = true;
      if (stopped || w.stopped || w.timer) return;
      const delay = Math.min(60_000, retryMs * 2 ** w.retries++);
      o.log.warn(
        { watch: path, err: (err as Error)?.message ?? String(err), retryInMs: delay },
        'watch failed; reads of these objects go to the API server until it lists again',
      );
      w.timer = setTimeout(() => {
        w.timer = undefined;
        run();
      }, delay);
      w.timer.unref();
    });
    const run = () => {
      w.failed = false;
      void w.informer.start().then(() => {
        // Stopped while it listed: the informer went on to open its watch; close that too.
        if (w.stopped) void w.informer.stop();
        else if (!w.failed) {
          w.listed = true;
          w.retries = 0;
        }
      });
    };
    watches.set(`${kind}/${scope}`, w);
    run();
  };

  const isSynced = (w: Watch | undefined) =>
    w !== undefined &&
    w.listed &&
    !w.failed &&
    // '' while the informer lists again (after a 410 Gone): its objects may be out of date.
    w.informer.latestResourceVersion() !== '';
  const watchFor = (kind: CachedKind, namespace: string) =>
    watches.get(`${kind}/${clusterWide ? '' : namespace}`);

  const started = (async () => {
    for (const scope of clusterWide ? [''] : scopes) {
      for (const kind of KINDS) {
        const may = async (verb: string) =>
          (
            await o.review({
              verb,
              group: 'apps',
              resource: RESOURCES[kind].plural,
              namespace: scope,
            })
          ).allowed;
        const allowed = await Promise.all([may('list'), may('watch')]).then(
          (a) => a.every(Boolean),
          () => false,
        );
        if (allowed) start(kind, scope);
        else
          o.log.info(
            { resource: RESOURCES[kind].plural, namespace: scope || 'all namespaces' },
            'no list and watch here: these reads go to the API server',
          );
      }
    }
  })();

  const stopAll = async () => {
    stopped = true;
    await started;
    for (const w of watches.values()) {
      w.stopped = true;
      clearTimeout(w.timer);
      await w.informer.stop();
    }
  };
  return {
    workload(ref) {
      if (ref.kind === 'Rollout' || stopped || !isSynced(watchFor(ref.kind, ref.namespace)))
        return undefined;
      return objects.get(ref.kind)!.get('')?.get(`${ref.namespace}/${ref.name}`) as
        Workload | undefined;
    },
    owned(kind: HistoryKind, namespace: string, uid: string) {
      if (stopped || !isSynced(watchFor(kind, namespace))) return undefined;
      const bucket = objects.get(kind)!.get(uid);
      return [...(bucket?.values() ?? [])].filter((obj) => obj.metadata?.namespace === namespace);
    },
    async synced(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      await started;
      while (![...watches.values()].every(isSynced)) {
        if (stopped || Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
    stats: () => ({
      watches: watches.size,
      synced: [...watches.values()].filter(isSynced).length,
      objects: objectCount,
    }),
    stop: stopAll,
  } as WatchCache;
}

/** The informer's own entry keeps only what it compares (name, namespace, resourceVersion). */
function trim(obj: KubernetesObject): void {
  const { name, namespace, resourceVersion } = obj.metadata ?? {};
  for (const key of Object.keys(obj)) delete (obj as Record<string, unknown>)[key];
  obj.metadata = defined({ name, namespace, resourceVersion });
}

const PAGE = 500;

function listOf(
  apps: AppsV1Api,
  kind: CachedKind,
  namespace: string,
  token: string | undefined,
): Promise<unknown> {
  const all = namespace === '';
  const q = { limit: PAGE, ...defined({ _continue: token }) };
  const ns = { ...q, namespace };
  switch (kind) {
    case 'Deployment':
      return all ? apps.listDeploymentForAllNamespaces(q) : apps.listNamespacedDeployment(ns);
    case 'StatefulSet':
      return all ? apps.listStatefulSetForAllNamespaces(q) : apps.listNamespacedStatefulSet(ns);
    case 'DaemonSet':
      return all ? apps.listDaemonSetForAllNamespaces(q) : apps.listNamespacedDaemonSet(ns);
    case 'ReplicaSet':
      return all ? apps.listReplicaSetForAllNamespaces(q) : apps.listNamespacedReplicaSet(ns);
    case 'ControllerRevision':
      return all
        ? apps.listControllerRevisionForAllNamespaces(q)
        : apps.listNamespacedControllerRevision(ns);
  }
}
