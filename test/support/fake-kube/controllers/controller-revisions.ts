// ControllerRevision history for StatefulSets and DaemonSets, as their upstream controllers keep
// it: each distinct pod template is snapshotted once as a revision named <workload>-<hash>,
// controlled by the workload, labelled with the template's labels (so the workload's selector
// finds it) plus a hash label, carrying the workload's annotations, and holding in `data` the
// strategic merge patch that `kubectl rollout undo` sends back:
// {"spec":{"template":{...,"$patch":"replace"}}}. Returning to an older template reuses its
// revision object and bumps its `.revision` to max+1.
import { shortHash } from '../hash.js';
import { deepEqual, sortKeys } from '../json.js';
import type { Registry } from '../registry.js';
import { resourceForKind } from '../resources.js';
import type { ControllerRevision, JsonObject, Workload } from '../types.js';
import { listOwned, ownerReference, write } from './common.js';

export interface RevisionState {
  /** The revision matching the workload's current template. */
  update: ControllerRevision;
  changed: boolean;
}

/**
 * The revision's data, with keys sorted as Go's encoding/json writes a map: kubectl compares it
 * byte for byte with the same encoding of the live template to skip a no-op undo.
 */
export function revisionData(workload: Workload): JsonObject {
  return sortKeys({
    spec: { template: { ...workload.spec.template, $patch: 'replace' } },
  }) as unknown as JsonObject;
}

export function syncRevisions(
  registry: Registry,
  workload: Workload,
  hashLabel: string,
): RevisionState {
  const type = resourceForKind('ControllerRevision');
  const ns = workload.metadata.namespace ?? '';
  const data = revisionData(workload);
  const owned = listOwned<ControllerRevision>(registry, 'ControllerRevision', workload).sort(
    (a, b) => a.revision - b.revision,
  );
  const max = owned.reduce((m, cr) => Math.max(m, cr.revision), 0);
  const equal = owned.filter((cr) => deepEqual(cr.data, data)).pop();
  if (equal) {
    if (equal.revision === max) return { update: equal, changed: false };
    equal.revision = max + 1;
    write(registry, equal);
    return {
      update: registry.get(type, ns, equal.metadata.name) as ControllerRevision,
      changed: true,
    };
  }
  let collisions = Number(workload.status?.collisionCount ?? 0);
  for (;;) {
    const hash = shortHash(data, collisions);
    const name = `${workload.metadata.name}-${hash}`;
    if (registry.store.get(type, ns, name)) {
      collisions++;
      continue;
    }
    const created = registry.create(type, ns, {
      metadata: {
        name,
        labels: { ...workload.spec.template.metadata.labels, [hashLabel]: hash },
        ...(workload.metadata.annotations ? { annotations: workload.metadata.annotations } : {}),
        ownerReferences: [ownerReference(workload)],
      },
      data,
      revision: max + 1,
    });
    return { update: created as ControllerRevision, changed: true };
  }
}

/** Revisions beyond spec.revisionHistoryLimit that no pod uses are deleted, oldest first. */
export function pruneRevisions(registry: Registry, workload: Workload, inUse: Set<string>): void {
  const limit = workload.spec.revisionHistoryLimit ?? 10;
  const idle = listOwned<ControllerRevision>(registry, 'ControllerRevision', workload)
    .filter((cr) => !inUse.has(cr.metadata.name))
    .sort((a, b) => a.revision - b.revision);
  const type = resourceForKind('ControllerRevision');
  for (const cr of idle.slice(0, Math.max(0, idle.length - limit))) {
    registry.delete(type, cr.metadata.namespace ?? '', cr.metadata.name);
  }
}
