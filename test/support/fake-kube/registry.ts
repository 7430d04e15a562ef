// REST semantics on top of the store, as the real API server's generic registry applies them:
// server-set metadata, defaulting and validation, optimistic concurrency on resourceVersion,
// generation bumps on spec changes, status-subresource separation, dry runs and cascading delete.
import { randomBytes, randomUUID } from 'node:crypto';
import { managedOnCreate, managedOnUpdate } from './managed-fields.js';
import { applyDefaults } from './defaults.js';
import { deepEqual } from './json.js';
import { applyPatch, type PatchType } from './patch.js';
import {
  apiVersionOf,
  qualifiedName,
  resourceForKind,
  resourceTypes,
  type ResourceType,
} from './resources.js';
import { notFound, type Store } from './store.js';
import { ApiError, type JsonObject, type KubeObject } from './types.js';
import { validate } from './validate.js';

export interface WriteOptions {
  dryRun?: boolean;
  /** 'status' writes only the status; the main resource ignores status for kinds with one. */
  subresource?: string;
  /** Field manager of the write (managedFields); the simulated controllers' by default. */
  manager?: string;
}

/** The simulated controllers write as the real kube-controller-manager does. */
const CONTROLLER_MANAGER = 'kube-controller-manager';

const builtInNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Registry {
  constructor(
    readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const ns of builtInNamespaces) this.ensureNamespace(ns);
  }

  get(type: ResourceType, ns: string, name: string): KubeObject {
    const found = this.store.get(type, type.namespaced ? ns : '', name);
    if (!found) throw notFound(type, name);
    return found;
  }

  create(type: ResourceType, ns: string, body: unknown, opts: WriteOptions = {}): KubeObject {
    const object = this.checkBody(type, ns, body);
    const meta = object.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + suffix();
    if (!meta.name) {
      throw new ApiError(
        422,
        'Invalid',
        `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
      );
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.now());
    (meta as { managedFields?: unknown }).managedFields = managedOnCreate(
      object,
      opts.manager ?? CONTROLLER_MANAGER,
      meta.creationTimestamp,
    );
    delete (meta as Partial<typeof meta>).resourceVersion;
    if (type.hasGeneration) meta.generation = 1;
    if (type.hasStatus && type.kind !== 'Namespace') object.status = {};
    if (type.kind === 'Namespace') {
      object.spec = { finalizers: ['kubernetes'] };
      object.status = { phase: 'Active' };
      meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
    }
    applyDefaults(type, object);
    validate(type, object);
    if (opts.dryRun) {
      if (this.store.get(type, meta.namespace ?? '', meta.name)) {
        throw new ApiError(
          409,
          'AlreadyExists',
          `${qualifiedName(type)} "${meta.name}" already exists`,
        );
      }
      return object;
    }
    if (type.namespaced) this.ensureNamespace(ns);
    return this.store.create(type, object);
  }

  update(
    type: ResourceType,
    ns: string,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): KubeObject {
    const old = this.get(type, ns, name);
    return this.replace(type, old, this.checkBody(type, ns, body), name, opts);
  }

  patch(
    type: ResourceType,
    ns: string,
    name: string,
    patch: unknown,
    patchType: PatchType,
    opts: WriteOptions = {},
  ): KubeObject {
    const old = this.get(type, ns, name);
    const patched = applyPatch(old as unknown as JsonObject, patch, patchType);
    return this.replace(type, old, this.checkBody(type, ns, patched), name, opts);
  }

  delete(
    type: ResourceType,
    ns: string,
    name: string,
    opts: {
      dryRun?: boolean;
      preconditions?: { uid?: string; resourceVersion?: string };
      orphan?: boolean;
    } = {},
  ): KubeObject {
    const old = this.get(type, ns, name);
    const pre = opts.preconditions;
    if (
      (pre?.uid && pre.uid !== old.metadata.uid) ||
      (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
    ) {
      throw conflict(type, name);
    }
    if (opts.dryRun) return old;
    const deleted = this.store.delete(type, type.namespaced ? ns : '', name);
    if (!opts.orphan) this.deleteDependents(deleted.metadata.uid);
    return deleted;
  }

  /** Namespaces referenced by anything exist implicitly. */
  ensureNamespace(ns: string): void {
    const type = resourceForKind('Namespace');
    if (ns && !this.store.get(type, '', ns)) {
      this.create(type, '', { metadata: { name: ns } });
    }
  }

  private replace(
    type: ResourceType,
    old: KubeObject,
    object: KubeObject,
    name: string,
    opts: WriteOptions,
  ): KubeObject {
    const meta = object.metadata;
    if (meta.name !== name) {
      throw new ApiError(
        400,
        'BadRequest',
        `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
      );
    }
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    if (type.hasStatus && opts.subresource === 'status') {
      const status = object.status;
      object = structuredClone(old);
      object.status = status;
    } else if (opts.subresource) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    } else if (type.hasStatus) {
      object.status = old.status;
    }
    object.metadata.uid = old.metadata.uid;
    object.metadata.creationTimestamp = old.metadata.creationTimestamp;
    object.metadata.resourceVersion = old.metadata.resourceVersion;
    if (type.hasGeneration) {
      object.metadata.generation = old.metadata.generation ?? 1;
      applyDefaults(type, object);
      if (!deepEqual(object.spec, old.spec)) object.metadata.generation += 1;
    }
    validate(type, object, old);
    (object.metadata as { managedFields?: unknown }).managedFields = managedOnUpdate(
      old,
      object,
      opts.manager ?? CONTROLLER_MANAGER,
      timestamp(this.now()),
      opts.subresource,
    );
    // A write that changes nothing keeps its resourceVersion and sends no watch event.
    if (opts.dryRun || deepEqual(object, old)) return object;
    return this.store.update(type, object);
  }

  /** Common body checks: an object of this kind, in this namespace; sets kind and apiVersion. */
  private checkBody(type: ResourceType, ns: string, body: unknown): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, 'BadRequest', 'the request body must be a JSON object');
    }
    const object = structuredClone(body) as KubeObject;
    const apiVersion = apiVersionOf(type);
    if (object.kind !== undefined && object.kind !== type.kind) {
      throw new ApiError(
        400,
        'BadRequest',
        `the kind in the data (${String(object.kind)}) does not match the expected kind (${type.kind})`,
      );
    }
    if (object.apiVersion !== undefined && object.apiVersion !== apiVersion) {
      throw new ApiError(
        400,
        'BadRequest',
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersion})`,
      );
    }
    object.apiVersion = apiVersion;
    object.kind = type.kind;
    const meta = (object.metadata ??= {} as KubeObject['metadata']);
    if (type.namespaced) {
      if (meta.namespace && meta.namespace !== ns) {
        throw new ApiError(
          400,
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = ns;
    } else {
      delete meta.namespace;
    }
    return object;
  }

  /** Background cascading deletion, as the garbage collector would do shortly after. */
  private deleteDependents(uid: string): void {
    for (const type of resourceTypes) {
      for (const o of this.store.list(type)) {
        if (o.metadata.ownerReferences?.some((r) => r.uid === uid)) {
          this.delete(type, o.metadata.namespace ?? '', o.metadata.name);
        }
      }
    }
  }
}

export function conflict(type: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.name },
  );
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}
