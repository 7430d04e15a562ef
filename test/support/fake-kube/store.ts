// In-memory object storage with one global resourceVersion counter and a change log that watches
// replay from. Everything going in or out is deep-copied so callers can never alias stored state.
import { qualifiedName, type ResourceType } from './resources.js';
import { ApiError, type KubeObject } from './types.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  resource: ResourceType;
  object: KubeObject;
  /** The object before a MODIFIED change, so watches can tell selector transitions. */
  previous?: KubeObject;
  rv: number;
}

/** Changes older than this many are forgotten; a watch from before them gets 410 Gone. */
const logLimit = 20_000;

const clone = <T>(value: T): T => structuredClone(value);

export class Store {
  private rv = 1000;
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private readonly log: Change[] = [];
  private readonly listeners = new Set<(change: Change) => void>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** The oldest resourceVersion a watch can resume from. */
  get oldestWatchable(): number {
    return this.log.length ? this.log[0].rv - 1 : this.rv;
  }

  get(type: ResourceType, ns: string, name: string): KubeObject | undefined {
    const found = this.bucket(type).get(key(ns, name));
    return found && clone(found);
  }

  /** Stable order: namespace, then name, as the real API server lists. */
  list(type: ResourceType, ns?: string): KubeObject[] {
    const items = [...this.bucket(type).values()].filter(
      (o) => ns === undefined || o.metadata.namespace === ns,
    );
    items.sort((a, b) =>
      key(a.metadata.namespace ?? '', a.metadata.name).localeCompare(
        key(b.metadata.namespace ?? '', b.metadata.name),
      ),
    );
    return items.map(clone);
  }

  create(type: ResourceType, object: KubeObject): KubeObject {
    const k = key(object.metadata.namespace ?? '', object.metadata.name);
    if (this.bucket(type).has(k)) {
      throw new ApiError(
        409,
        'AlreadyExists',
        `${qualifiedName(type)} "${object.metadata.name}" already exists`,
      );
    }
    return this.write(type, k, object, 'ADDED', undefined);
  }

  /** Replaces the stored object (no precondition checks: the registry does those). */
  update(type: ResourceType, object: KubeObject): KubeObject {
    const k = key(object.metadata.namespace ?? '', object.metadata.name);
    const previous = this.bucket(type).get(k);
    if (!previous) throw notFound(type, object.metadata.name);
    return this.write(type, k, object, 'MODIFIED', previous);
  }

  delete(type: ResourceType, ns: string, name: string): KubeObject {
    const k = key(ns, name);
    const previous = this.bucket(type).get(k);
    if (!previous) throw notFound(type, name);
    this.bucket(type).delete(k);
    const object = clone(previous);
    object.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', resource: type, object, rv: this.rv });
    return clone(object);
  }

  /** Changes to `type` after resourceVersion `since`, or undefined when they were forgotten. */
  changesSince(type: ResourceType, since: number): Change[] | undefined {
    if (since < this.oldestWatchable) return undefined;
    return this.log.filter((c) => c.resource === type && c.rv > since);
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write(
    type: ResourceType,
    k: string,
    object: KubeObject,
    changeType: ChangeType,
    previous: KubeObject | undefined,
  ): KubeObject {
    const stored = clone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    this.bucket(type).set(k, stored);
    const change: Change = { type: changeType, resource: type, object: stored, rv: this.rv };
    if (previous) change.previous = previous;
    this.emit(change);
    return clone(stored);
  }

  private emit(change: Change): void {
    this.log.push(change);
    if (this.log.length > logLimit) this.log.splice(0, this.log.length - logLimit);
    for (const listener of this.listeners) listener(change);
  }

  private bucket(type: ResourceType): Map<string, KubeObject> {
    let bucket = this.objects.get(type);
    if (!bucket) this.objects.set(type, (bucket = new Map()));
    return bucket;
  }
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

export function notFound(type: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(type)} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.name,
  });
}
