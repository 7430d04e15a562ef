// Helpers and shared knobs for the simulated controllers.
import { deepEqual } from '../json.js';
import type { Registry } from '../registry.js';
import { resourceForKind } from '../resources.js';
import type { Condition, KubeObject, OwnerReference, PodTemplate, Workload } from '../types.js';

/** Test-controlled state the controllers consult. */
export interface SimState {
  /** `Kind/ns/name` of workloads whose new pods never become ready. */
  stuck: Set<string>;
  /** Multiplier on progressDeadlineSeconds. */
  deadlineScale: number;
  /** Simulated node count per DaemonSet (`ns/name`), default 1. */
  daemonSetNodes: Map<string, number>;
}

export const workloadKey = (kind: string, ns: string, name: string): string =>
  `${kind}/${ns}/${name}`;

export function isStuck(state: SimState, workload: KubeObject): boolean {
  const { namespace = '', name } = workload.metadata;
  return state.stuck.has(workloadKey(workload.kind, namespace, name));
}

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller);
}

export function ownerReference(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Objects of `kind` in the owner's namespace whose controller reference is the owner. */
export function listOwned<T extends KubeObject>(
  registry: Registry,
  kind: string,
  owner: KubeObject,
): T[] {
  return registry.store
    .list(resourceForKind(kind), owner.metadata.namespace)
    .filter((o) => controllerOf(o)?.uid === owner.metadata.uid) as T[];
}

export function listAll<T extends KubeObject>(registry: Registry, kind: string): T[] {
  return registry.store.list(resourceForKind(kind)) as T[];
}

/**
 * Writes the object (or only its status) and tells whether anything changed: the registry keeps
 * the resourceVersion on a write that changes nothing.
 */
export function write(registry: Registry, object: KubeObject, subresource?: 'status'): boolean {
  const type = resourceForKind(object.kind);
  const { namespace = '', name, resourceVersion } = object.metadata;
  const opts = subresource ? { subresource } : {};
  const written = registry.update(type, namespace, name, object, opts);
  return written.metadata.resourceVersion !== resourceVersion;
}

/** Pod templates equal apart from the controller-added hash label. */
export function templatesEqual(a: PodTemplate, b: PodTemplate, hashLabel: string): boolean {
  return deepEqual(withoutLabel(a, hashLabel), withoutLabel(b, hashLabel));
}

export function withoutLabel(template: PodTemplate, label: string): PodTemplate {
  const copy = structuredClone(template);
  if (copy.metadata.labels) {
    delete copy.metadata.labels[label];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

export function getCondition(workload: Workload, type: string): Condition | undefined {
  return workload.status?.conditions?.find((c) => c.type === type);
}

/** Sets a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(
  workload: Workload,
  condition: Omit<Condition, 'lastTransitionTime' | 'lastUpdateTime'>,
  time: string,
): void {
  const status = (workload.status ??= {});
  const conditions = (status.conditions ??= []);
  const index = conditions.findIndex((c) => c.type === condition.type);
  const current = conditions[index];
  const next: Condition = {
    ...condition,
    lastUpdateTime: time,
    lastTransitionTime:
      current && current.status === condition.status ? current.lastTransitionTime : time,
  };
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
}

/** IntOrString percentages as the controllers resolve them (surge rounds up, unavailable down). */
export function resolveIntOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number(value) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** Sets `key` to `value` (omitting zero values, as Go's omitempty does) and reports a change. */
export function setCount(target: Record<string, unknown>, key: string, value: number): void {
  if (value === 0) delete target[key];
  else target[key] = value;
}
