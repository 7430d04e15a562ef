// Simulated Deployment controller, following the upstream one's observable behaviour: one
// ReplicaSet per distinct pod template, named <deployment>-<pod-template-hash>; the
// `deployment.kubernetes.io/revision` annotation is max(old revisions)+1 on the ReplicaSet
// matching the current template, including an old one reused by a rollback; the Deployment's
// other annotations are copied onto it; rolling updates honour maxSurge/maxUnavailable (Recreate
// scales old to zero first); status comes from deployment-status.ts.
import { shortHash } from '../hash.js';
import type { Registry } from '../registry.js';
import { resourceForKind } from '../resources.js';
import type { Workload } from '../types.js';
import {
  listAll,
  listOwned,
  ownerReference,
  resolveIntOrPercent,
  templatesEqual,
  withoutLabel,
  write,
  type SimState,
} from './common.js';
import { deploymentStatus } from './deployment-status.js';
import { podTemplateHashLabel } from './replicaset.js';
import type { Controller, SyncResult } from './loop.js';

const revisionKey = 'deployment.kubernetes.io/revision';
const historyKey = 'deployment.kubernetes.io/revision-history';
const desiredKey = 'deployment.kubernetes.io/desired-replicas';
const maxKey = 'deployment.kubernetes.io/max-replicas';
/** Deployment annotations the controller does not copy onto its ReplicaSets. */
const notCopied = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionKey,
  historyKey,
  desiredKey,
  maxKey,
  'deprecated.deployment.rollback.to',
]);

export const revisionOf = (o: Workload): number =>
  Number(o.metadata.annotations?.[revisionKey] ?? 0) || 0;

export class DeploymentController implements Controller {
  /** Precise time of each Deployment's last progress (the condition only keeps seconds). */
  private readonly lastProgress = new Map<string, number>();

  constructor(
    private readonly registry: Registry,
    private readonly state: SimState,
  ) {}

  sync(now: number): SyncResult {
    let changed = false;
    let wakeAt: number | undefined;
    for (const d of listAll<Workload>(this.registry, 'Deployment')) {
      const result = this.syncDeployment(d, now);
      changed = result.changed || changed;
      if (result.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, result.wakeAt);
    }
    return wakeAt === undefined ? { changed } : { changed, wakeAt };
  }

  private syncDeployment(d: Workload, now: number): SyncResult {
    let changed = false;
    let created = false;
    const replicas = d.spec.replicas ?? 1;
    const rolling = d.spec.strategy?.type !== 'Recreate';
    let maxSurge = rolling
      ? resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxSurge, replicas, true)
      : 0;
    let maxUnavailable = rolling
      ? resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxUnavailable, replicas, false)
      : replicas;
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    if (!rolling) maxSurge = 0;

    let owned = listOwned<Workload>(this.registry, 'ReplicaSet', d);
    let newRS = owned.find((rs) =>
      templatesEqual(rs.spec.template, d.spec.template, podTemplateHashLabel),
    );
    const old = owned.filter((rs) => rs !== newRS);
    const nextRevision = Math.max(0, ...old.map(revisionOf)) + 1;

    if (newRS) {
      changed =
        this.syncNewReplicaSetAnnotations(d, newRS, nextRevision, replicas + maxSurge) || changed;
    } else if (!d.spec.paused) {
      const current = owned.reduce((sum, rs) => sum + (rs.spec.replicas ?? 0), 0);
      const initial = rolling
        ? Math.max(0, Math.min(replicas, replicas + maxSurge - current))
        : old.every((rs) => !rs.status?.replicas)
          ? replicas
          : 0;
      newRS = this.createReplicaSet(d, nextRevision, initial, replicas + maxSurge);
      created = true;
      changed = true;
    }
    owned = listOwned<Workload>(this.registry, 'ReplicaSet', d);
    newRS = owned.find((rs) => rs.metadata.name === newRS?.metadata.name);
    const olds = owned.filter((rs) => rs !== newRS);

    if (newRS) {
      const revision = String(revisionOf(newRS));
      if (d.metadata.annotations?.[revisionKey] !== revision) {
        d.metadata.annotations = { ...d.metadata.annotations, [revisionKey]: revision };
        changed = write(this.registry, d) || changed;
        d = this.registry.get(
          resourceForKind('Deployment'),
          d.metadata.namespace ?? '',
          d.metadata.name,
        ) as Workload;
      }
    }

    if (!d.spec.paused && newRS) {
      const scaled = rolling
        ? this.scaleNew(newRS, owned, replicas, maxSurge) ||
          this.scaleOld(newRS, olds, owned, replicas, maxUnavailable)
        : this.recreate(newRS, olds, replicas);
      changed = scaled || changed;
      owned = listOwned<Workload>(this.registry, 'ReplicaSet', d);
      newRS = owned.find((rs) => rs.metadata.name === newRS?.metadata.name);
    }
    return this.syncStatus(d, newRS, owned, maxUnavailable, now, { changed, created });
  }

  private createReplicaSet(
    d: Workload,
    revision: number,
    replicas: number,
    maxReplicas: number,
  ): Workload {
    const template = withoutLabel(d.spec.template, podTemplateHashLabel);
    let collisions = Number(d.status?.collisionCount ?? 0);
    for (;;) {
      const hash = shortHash(template, collisions);
      const name = `${d.metadata.name}-${hash}`;
      const type = resourceForKind('ReplicaSet');
      if (this.registry.store.get(type, d.metadata.namespace ?? '', name)) {
        collisions++;
        continue;
      }
      const labels = { ...template.metadata.labels, [podTemplateHashLabel]: hash };
      const annotations: Record<string, string> = copyAnnotations(d);
      annotations[revisionKey] = String(revision);
      annotations[desiredKey] = String(d.spec.replicas ?? 1);
      annotations[maxKey] = String(maxReplicas);
      return this.registry.create(type, d.metadata.namespace ?? '', {
        metadata: { name, labels, annotations, ownerReferences: [ownerReference(d)] },
        spec: {
          replicas,
          selector: {
            ...d.spec.selector,
            matchLabels: { ...d.spec.selector.matchLabels, [podTemplateHashLabel]: hash },
          },
          template: { ...template, metadata: { ...template.metadata, labels } },
        },
      }) as Workload;
    }
  }

  private syncNewReplicaSetAnnotations(
    d: Workload,
    rs: Workload,
    nextRevision: number,
    maxReplicas: number,
  ): boolean {
    const annotations = { ...rs.metadata.annotations, ...copyAnnotations(d) };
    const current = revisionOf(rs);
    if (current < nextRevision) {
      annotations[revisionKey] = String(nextRevision);
      if (current > 0) {
        const history = rs.metadata.annotations?.[historyKey];
        annotations[historyKey] = history ? `${history},${current}` : String(current);
      }
    }
    annotations[desiredKey] = String(d.spec.replicas ?? 1);
    annotations[maxKey] = String(maxReplicas);
    rs.metadata.annotations = annotations;
    return write(this.registry, rs);
  }

  private scaleNew(newRS: Workload, all: Workload[], replicas: number, maxSurge: number): boolean {
    const current = newRS.spec.replicas ?? 0;
    if (current === replicas) return false;
    let target = replicas;
    if (current < replicas) {
      const total = all.reduce((sum, rs) => sum + (rs.spec.replicas ?? 0), 0);
      const room = replicas + maxSurge - total;
      if (room <= 0) return false;
      target = Math.min(replicas, current + room);
    }
    return this.scale(newRS, target);
  }

  private scaleOld(
    newRS: Workload,
    olds: Workload[],
    all: Workload[],
    replicas: number,
    maxUnavailable: number,
  ): boolean {
    const oldCount = olds.reduce((sum, rs) => sum + (rs.spec.replicas ?? 0), 0);
    if (oldCount === 0) return false;
    const total = all.reduce((sum, rs) => sum + (rs.spec.replicas ?? 0), 0);
    const minAvailable = replicas - maxUnavailable;
    const newUnavailable =
      (newRS.spec.replicas ?? 0) - Number(newRS.status?.availableReplicas ?? 0);
    let budget = total - minAvailable - newUnavailable;
    if (budget <= 0) return false;
    let changed = false;
    // Unhealthy old pods go first: removing them costs no availability.
    const oldest = [...olds].sort((a, b) =>
      a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp),
    );
    for (const rs of oldest) {
      const unhealthy = (rs.spec.replicas ?? 0) - Number(rs.status?.availableReplicas ?? 0);
      const cut = Math.min(budget, Math.max(0, unhealthy));
      if (cut > 0) {
        changed = this.scale(rs, (rs.spec.replicas ?? 0) - cut) || changed;
        rs.spec.replicas = (rs.spec.replicas ?? 0) - cut;
        budget -= cut;
      }
    }
    const available = all.reduce((sum, rs) => sum + Number(rs.status?.availableReplicas ?? 0), 0);
    let allowed = Math.min(budget, available - minAvailable);
    for (const rs of oldest) {
      if (allowed <= 0) break;
      const cut = Math.min(allowed, rs.spec.replicas ?? 0);
      if (cut > 0) {
        changed = this.scale(rs, (rs.spec.replicas ?? 0) - cut) || changed;
        allowed -= cut;
      }
    }
    return changed;
  }

  /** Recreate strategy: old pods all gone before the new ReplicaSet scales up. */
  private recreate(newRS: Workload, olds: Workload[], replicas: number): boolean {
    let changed = false;
    for (const rs of olds) if (rs.spec.replicas) changed = this.scale(rs, 0) || changed;
    if (changed || olds.some((rs) => rs.status?.replicas)) return changed;
    return this.scale(newRS, replicas);
  }

  private scale(rs: Workload, replicas: number): boolean {
    const fresh = this.registry.get(
      resourceForKind('ReplicaSet'),
      rs.metadata.namespace ?? '',
      rs.metadata.name,
    ) as Workload;
    fresh.spec.replicas = replicas;
    return write(this.registry, fresh);
  }

  private syncStatus(
    d: Workload,
    newRS: Workload | undefined,
    owned: Workload[],
    maxUnavailable: number,
    now: number,
    { changed: changedBefore, created }: { changed: boolean; created: boolean },
  ): SyncResult {
    const type = resourceForKind('Deployment');
    const fresh = this.registry.get(type, d.metadata.namespace ?? '', d.metadata.name) as Workload;
    const uid = fresh.metadata.uid;
    const result = deploymentStatus({
      deployment: fresh,
      newRS,
      owned,
      maxUnavailable,
      created,
      now,
      lastProgress: this.lastProgress.get(uid),
      deadlineScale: this.state.deadlineScale,
    });
    if (result.progressedAt !== undefined) this.lastProgress.set(uid, result.progressedAt);
    if (newRS && result.complete && !changedBefore) this.cleanup(fresh, owned, newRS);
    fresh.status = result.status;
    const changed = write(this.registry, fresh, 'status') || changedBefore;
    return result.wakeAt === undefined ? { changed } : { changed, wakeAt: result.wakeAt };
  }

  /** Old, scaled-down ReplicaSets beyond spec.revisionHistoryLimit are deleted, oldest first. */
  private cleanup(d: Workload, owned: Workload[], newRS: Workload): void {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const idle = owned
      .filter(
        (rs) =>
          rs.metadata.name !== newRS.metadata.name && !rs.spec.replicas && !rs.status?.replicas,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    const type = resourceForKind('ReplicaSet');
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.registry.delete(type, rs.metadata.namespace ?? '', rs.metadata.name);
    }
  }
}

function copyAnnotations(d: Workload): Record<string, string> {
  const copied: Record<string, string> = {};
  for (const [key, value] of Object.entries(d.metadata.annotations ?? {})) {
    if (!notCopied.has(key)) copied[key] = value;
  }
  return copied;
}
