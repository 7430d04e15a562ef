// PATCH bodies by Content-Type: RFC 6902 JSON patch, RFC 7386 merge patch and Kubernetes'
// strategic merge patch (strategic-merge-patch.ts).
import { deepEqual, isObject } from './json.js';
import { strategicMerge } from './strategic-merge-patch.js';
import { ApiError, type Json, type JsonObject } from './types.js';

export const patchTypes = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;
export type PatchType = (typeof patchTypes)[number];

export function applyPatch(target: JsonObject, body: unknown, type: PatchType): JsonObject {
  const patch = body as Json;
  let result: Json;
  if (type === 'application/json-patch+json') result = applyJsonPatch(target, patch);
  else if (!isObject(patch))
    throw new ApiError(400, 'BadRequest', 'patch body must be a JSON object');
  else if (type === 'application/merge-patch+json') result = mergePatch(target, patch);
  else result = strategicMerge(target, patch);
  if (!isObject(result)) throw new ApiError(422, 'Invalid', 'patch result is not an object');
  return result;
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

/** RFC 6902. Malformed operations are 400, operations that do not apply are 422 (as kube). */
export function applyJsonPatch(target: Json, patch: unknown): Json {
  if (!Array.isArray(patch)) throw new ApiError(400, 'BadRequest', 'json patch must be an array');
  let doc: Json = structuredClone(target);
  for (const raw of patch as unknown[]) {
    const op = raw as Operation;
    if (!isObject(raw as Json) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new ApiError(400, 'BadRequest', `invalid json patch operation: ${JSON.stringify(raw)}`);
    }
    const needsValue = ['add', 'replace', 'test'].includes(op.op);
    if (needsValue && !('value' in op)) {
      throw new ApiError(400, 'BadRequest', `json patch ${op.op} at ${op.path} has no value`);
    }
    switch (op.op) {
      case 'add':
        doc = put(doc, op.path, op.value!, 'add');
        break;
      case 'replace':
        doc = put(doc, op.path, op.value!, 'replace');
        break;
      case 'remove':
        doc = remove(doc, op.path).doc;
        break;
      case 'move': {
        const taken = remove(doc, fromOf(op));
        doc = put(taken.doc, op.path, taken.value, 'add');
        break;
      }
      case 'copy':
        doc = put(doc, op.path, structuredClone(read(doc, fromOf(op))), 'add');
        break;
      case 'test':
        if (!deepEqual(read(doc, op.path), op.value!)) {
          // As the real API server (1.35) answers a JSON patch it cannot apply: no causes.
          throw new ApiError(
            422,
            'Invalid',
            'the server rejected our request due to an error in our request',
            {},
          );
        }
        break;
      default:
        throw new ApiError(400, 'BadRequest', `unknown json patch operation "${op.op}"`);
    }
  }
  return doc;
}

function fromOf(op: Operation): string {
  if (typeof op.from !== 'string') throw new ApiError(400, 'BadRequest', `${op.op} needs "from"`);
  return op.from;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new ApiError(400, 'BadRequest', `bad JSON pointer ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function missing(pointer: string): ApiError {
  return new ApiError(422, 'Invalid', `doc is missing path: "${pointer}"`);
}

/** The container holding the pointer's last token, and that token. */
function parentOf(doc: Json, pointer: string): { parent: Json; last: string } {
  const parts = tokens(pointer);
  const last = parts.pop();
  if (last === undefined) throw missing(pointer);
  let parent: Json = doc;
  for (const part of parts) {
    const next: Json | undefined = Array.isArray(parent)
      ? parent[arrayIndex(part, parent.length - 1, pointer)]
      : isObject(parent)
        ? parent[part]
        : undefined;
    if (next === undefined) throw missing(pointer);
    parent = next;
  }
  return { parent, last };
}

function arrayIndex(token: string, max: number, pointer: string): number {
  if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) > max) throw missing(pointer);
  return Number(token);
}

function read(doc: Json, pointer: string): Json {
  if (pointer === '') return doc;
  const { parent, last } = parentOf(doc, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length - 1, pointer)]!;
  if (isObject(parent) && last in parent) return parent[last]!;
  throw missing(pointer);
}

function put(doc: Json, pointer: string, value: Json, mode: 'add' | 'replace'): Json {
  if (pointer === '') return structuredClone(value);
  const { parent, last } = parentOf(doc, pointer);
  const copy = structuredClone(value);
  if (Array.isArray(parent)) {
    if (mode === 'add') {
      const index = last === '-' ? parent.length : arrayIndex(last, parent.length, pointer);
      parent.splice(index, 0, copy);
    } else {
      parent[arrayIndex(last, parent.length - 1, pointer)] = copy;
    }
  } else if (isObject(parent)) {
    if (mode === 'replace' && !(last in parent)) throw missing(pointer);
    parent[last] = copy;
  } else {
    throw missing(pointer);
  }
  return doc;
}

function remove(doc: Json, pointer: string): { doc: Json; value: Json } {
  const { parent, last } = parentOf(doc, pointer);
  if (Array.isArray(parent)) {
    const [value] = parent.splice(arrayIndex(last, parent.length - 1, pointer), 1);
    return { doc, value: value! };
  }
  if (isObject(parent) && last in parent) {
    const value = parent[last]!;
    delete parent[last];
    return { doc, value };
  }
  throw missing(pointer);
}
