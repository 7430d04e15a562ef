// Kubernetes strategic merge patch for the workload types served here. The real server takes
// each list's merge key from the Go struct tags (patchMergeKey); the workload types only use a
// handful, and every list field of a given name shares one key, so a table by field name does.
// Directives: `$patch: replace|delete` (maps and list items), `$retainKeys`,
// `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
import { isObject } from './json.js';
import { ApiError, type Json, type JsonObject } from './types.js';

/** Lists merged item by item, by this key; any other list is replaced whole. */
export const mergeKeys: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  resourceClaims: 'name',
  topologySpreadConstraints: 'topologyKey',
  ownerReferences: 'uid',
  conditions: 'type',
};

/** Primitive lists merged as sets. */
const setLists = new Set(['finalizers']);

const deleted = Symbol('deleted');

export function strategicMerge(original: JsonObject, patch: JsonObject): JsonObject {
  const result = mergeMap(original, patch);
  if (result === deleted) throw new ApiError(422, 'Invalid', '$patch: delete on the whole object');
  return result;
}

function mergeMap(
  original: JsonObject | undefined,
  patch: JsonObject,
): JsonObject | typeof deleted {
  const directive = patch.$patch;
  if (directive === 'delete') return deleted;
  if (directive === 'replace') return strip(patch) as JsonObject;
  if (directive !== undefined && directive !== 'merge') {
    throw new ApiError(400, 'BadRequest', `unknown patch directive ${JSON.stringify(directive)}`);
  }
  const result: JsonObject = structuredClone(original ?? {});
  const orders: Array<[string, Json[]]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.push([key.slice('$setElementOrder/'.length), value]);
    } else if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.includes(item));
      }
    } else if (value === null) {
      delete result[key];
    } else if (isObject(value)) {
      const current = result[key];
      const merged = mergeMap(isObject(current) ? current : undefined, value);
      if (merged === deleted) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(key, result[key], value);
    } else {
      result[key] = value;
    }
  }
  for (const [field, order] of orders) {
    const list = result[field];
    if (Array.isArray(list)) result[field] = reorder(list, order, mergeKeys[field]);
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(field: string, original: Json | undefined, patch: Json[]): Json[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map(strip);
  }
  const current = Array.isArray(original) ? structuredClone(original) : [];
  if (setLists.has(field)) {
    return [...current, ...patch.filter((item) => !current.includes(item))];
  }
  const mergeKey = mergeKeys[field];
  if (!mergeKey || !patch.every(isObject)) return patch.map(strip);
  const result = current;
  for (const item of patch) {
    const id = item[mergeKey];
    if (id === undefined) {
      throw new ApiError(
        422,
        'Invalid',
        `map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`,
      );
    }
    const index = result.findIndex((existing) => isObject(existing) && existing[mergeKey] === id);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    const existing = index >= 0 ? result[index] : undefined;
    const merged = mergeMap(isObject(existing) ? existing : undefined, item);
    if (merged === deleted) continue;
    if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

/** `$setElementOrder`: listed items first in the given order, then the rest as they were. */
function reorder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const idOf = (item: Json): Json | undefined =>
    mergeKey && isObject(item) ? item[mergeKey] : item;
  const rank = (item: Json): number => {
    const id = idOf(item);
    const index = order.findIndex((o) => idOf(o) === id);
    return index < 0 ? order.length : index;
  };
  return list
    .map((item, position) => ({ item, position }))
    .sort((a, b) => rank(a.item) - rank(b.item) || a.position - b.position)
    .map((entry) => entry.item);
}

/** Removes directive keys at every level, for values that are taken as they are. */
function strip(value: Json): Json {
  if (Array.isArray(value)) return value.map(strip);
  if (!isObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (!key.startsWith('$')) result[key] = strip(item);
  }
  return result;
}
