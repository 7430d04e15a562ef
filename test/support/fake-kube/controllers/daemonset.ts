// Simulated DaemonSet controller: one pod per simulated node (createDaemonSet's `replicas`),
// rolling updates replacing at most maxUnavailable not-ready pods at a time; status in the
// DaemonSet's own fields (desired/current/updated NumberScheduled, numberReady, ...).
import type { Registry } from '../registry.js';
import type { Workload } from '../types.js';
import { isStuck, listAll, resolveIntOrPercent, setCount, write, type SimState } from './common.js';
import { pruneRevisions, syncRevisions } from './controller-revisions.js';
import type { Controller, SyncResult } from './loop.js';

interface Pod {
  revision: string;
  ready: boolean;
}

export class DaemonSetController implements Controller {
  private readonly pods = new Map<string, Pod[]>();

  constructor(
    private readonly registry: Registry,
    private readonly state: SimState,
  ) {}

  sync(): SyncResult {
    let changed = false;
    for (const ds of listAll<Workload>(this.registry, 'DaemonSet')) {
      changed = this.syncOne(ds) || changed;
    }
    return { changed };
  }

  private syncOne(ds: Workload): boolean {
    const revisions = syncRevisions(this.registry, ds, 'controller-revision-hash');
    const update = revisions.update.metadata.name;
    const nodes =
      this.state.daemonSetNodes.get(`${ds.metadata.namespace}/${ds.metadata.name}`) ?? 1;
    const pods = this.pods.get(ds.metadata.uid) ?? [];
    this.pods.set(ds.metadata.uid, pods);
    const stuck = isStuck(this.state, ds);

    for (const pod of pods) if (!pod.ready && !(stuck && pod.revision === update)) pod.ready = true;
    pods.splice(nodes);
    while (pods.length < nodes) pods.push({ revision: update, ready: false });
    if (ds.spec.updateStrategy?.type !== 'OnDelete') {
      const maxUnavailable = Math.max(
        1,
        resolveIntOrPercent(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, nodes, true),
      );
      let budget = maxUnavailable - pods.filter((p) => !p.ready).length;
      // Old pods that are not ready anyway cost no availability: replace those first.
      const order = pods
        .map((_, i) => i)
        .sort((a, b) => Number(pods[a].ready) - Number(pods[b].ready));
      for (const i of order) {
        const pod = pods[i];
        if (pod.revision === update) continue;
        if (pod.ready && budget <= 0) continue;
        if (pod.ready) budget--;
        pods[i] = { revision: update, ready: false };
      }
    }

    const ready = pods.filter((p) => p.ready).length;
    const next: Record<string, unknown> = {
      currentNumberScheduled: pods.length,
      numberMisscheduled: 0,
      desiredNumberScheduled: nodes,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
    };
    setCount(next, 'updatedNumberScheduled', pods.filter((p) => p.revision === update).length);
    setCount(next, 'numberAvailable', ready);
    setCount(next, 'numberUnavailable', nodes - ready);
    ds.status = next;
    const changed = write(this.registry, ds, 'status') || revisions.changed;
    if (!changed)
      pruneRevisions(this.registry, ds, new Set([update, ...pods.map((p) => p.revision)]));
    return changed;
  }
}
