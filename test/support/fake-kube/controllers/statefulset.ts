// Simulated StatefulSet controller: pods by ordinal, created in order (OrderedReady), rolling
// updates from the highest ordinal down one pod at a time, each waiting for the previous to be
// ready; status.currentRevision follows updateRevision once every pod runs it.
import type { Registry } from '../registry.js';
import type { Workload } from '../types.js';
import { isStuck, listAll, setCount, write, type SimState } from './common.js';
import { pruneRevisions, syncRevisions } from './controller-revisions.js';
import type { Controller, SyncResult } from './loop.js';

interface Pod {
  revision: string;
  ready: boolean;
}

export class StatefulSetController implements Controller {
  private readonly pods = new Map<string, Pod[]>();

  constructor(
    private readonly registry: Registry,
    private readonly state: SimState,
  ) {}

  sync(): SyncResult {
    let changed = false;
    for (const sts of listAll<Workload>(this.registry, 'StatefulSet')) {
      changed = this.syncOne(sts) || changed;
    }
    return { changed };
  }

  private syncOne(sts: Workload): boolean {
    const revisions = syncRevisions(this.registry, sts, 'controller.kubernetes.io/hash');
    const update = revisions.update.metadata.name;
    const status = sts.status ?? {};
    let current = typeof status.currentRevision === 'string' ? status.currentRevision : update;
    const pods = this.pods.get(sts.metadata.uid) ?? [];
    this.pods.set(sts.metadata.uid, pods);
    const replicas = sts.spec.replicas ?? 1;
    const stuck = isStuck(this.state, sts);

    for (const pod of pods) if (!pod.ready && !(stuck && pod.revision === update)) pod.ready = true;
    if (pods.length > replicas) {
      pods.pop();
    } else if (pods.length < replicas) {
      if (pods.every((p) => p.ready)) pods.push({ revision: update, ready: false });
    } else if (sts.spec.updateStrategy?.type !== 'OnDelete') {
      const partition = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      const target = pods.findLastIndex((p, i) => i >= partition && p.revision !== update);
      const blocked = pods.some((p, i) => i !== target && !p.ready);
      if (target >= 0 && !blocked) pods[target] = { revision: update, ready: false };
    }

    const count = (f: (p: Pod) => boolean) => pods.filter(f).length;
    const ready = count((p) => p.ready);
    const updated = count((p) => p.revision === update);
    if (updated === replicas && pods.length === replicas && ready === replicas) current = update;
    const next: Record<string, unknown> = {
      observedGeneration: sts.metadata.generation,
      replicas: pods.length,
    };
    setCount(next, 'readyReplicas', ready);
    setCount(
      next,
      'currentReplicas',
      count((p) => p.revision === current),
    );
    setCount(next, 'updatedReplicas', updated);
    next.currentRevision = current;
    next.updateRevision = update;
    next.collisionCount = 0;
    next.availableReplicas = ready;
    sts.status = next;
    const changed = write(this.registry, sts, 'status') || revisions.changed;
    if (!changed) pruneRevisions(this.registry, sts, new Set([current, update]));
    return changed;
  }
}
