// Simulated ReplicaSet controller and kubelet in one: pods appear as soon as spec.replicas asks
// for them and become ready one step later, except the new pods of a stuck Deployment's current
// ReplicaSet, which never do.
import type { Registry } from '../registry.js';
import { resourceForKind } from '../resources.js';
import type { Workload } from '../types.js';
import {
  controllerOf,
  isStuck,
  listAll,
  setCount,
  templatesEqual,
  write,
  type SimState,
} from './common.js';
import type { Controller, SyncResult } from './loop.js';

export const podTemplateHashLabel = 'pod-template-hash';

export class ReplicaSetController implements Controller {
  constructor(
    private readonly registry: Registry,
    private readonly state: SimState,
  ) {}

  sync(): SyncResult {
    let changed = false;
    for (const rs of listAll<Workload>(this.registry, 'ReplicaSet')) {
      changed = this.syncOne(rs) || changed;
    }
    return { changed };
  }

  private syncOne(rs: Workload): boolean {
    const desired = rs.spec.replicas ?? 1;
    const status = rs.status ?? {};
    let replicas = Number(status.replicas ?? 0);
    let ready = Number(status.readyReplicas ?? 0);
    if (replicas > desired) {
      replicas = desired;
      ready = Math.min(ready, desired);
    } else if (ready < replicas && !this.isStuck(rs)) {
      ready = replicas;
    }
    replicas = Math.max(replicas, desired);
    const next: Record<string, unknown> = { replicas };
    setCount(next, 'fullyLabeledReplicas', replicas);
    setCount(next, 'readyReplicas', ready);
    setCount(next, 'availableReplicas', ready);
    next.observedGeneration = rs.metadata.generation;
    rs.status = next;
    return write(this.registry, rs, 'status');
  }

  private isStuck(rs: Workload): boolean {
    const owner = controllerOf(rs);
    if (owner?.kind !== 'Deployment') return false;
    const type = resourceForKind('Deployment');
    const d = this.registry.store.get(type, rs.metadata.namespace ?? '', owner.name) as
      Workload | undefined;
    return (
      !!d &&
      d.metadata.uid === owner.uid &&
      isStuck(this.state, d) &&
      templatesEqual(rs.spec.template, d.spec.template, podTemplateHashLabel)
    );
  }
}
