// Every pod-template change a rollback makes besides images (contract.md "POST /test": `changes.fields`),
// so an operator approving a rollback that "changes no image" sees what it does change. Lists
// keyed by name (containers, env, volumes, ports...) are matched by name. Env values and args
// may hold secrets: only their names (or that they changed) are shown.
import type { FieldChange } from '../../model/executor.js';
import type { PodTemplate } from '../../kube/kube-types.js';
import { normalizeTemplate } from './templates-equal.js';

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

export function templateChanges(
  from: PodTemplate | undefined,
  to: PodTemplate | undefined,
): FieldChange[] {
  const out: FieldChange[] = [];
  walk(normalizeTemplate(from), normalizeTemplate(to), '', out, false);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: FieldChange[], inContainer: boolean) {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (inContainer && key === 'image') return; // listed in changes.images
  if (inContainer && key === 'args') return void out.push(change(path, a, b, false));
  if (inContainer && key === 'env') {
    const before = byName(a) ?? new Map<string, unknown>();
    const after = byName(b) ?? new Map<string, unknown>();
    for (const name of union(before.keys(), after.keys())) {
      const x = before.get(name);
      const y = after.get(name);
      if (JSON.stringify(x) !== JSON.stringify(y))
        out.push(change(`${path}[${name}]`, x, y, false));
    }
    return;
  }
  if ((isObject(a) || a === undefined) && (isObject(b) || b === undefined)) {
    // Down to the leaves, also into a map added or removed as a whole.
    const x = a ?? {};
    const y = b ?? {};
    for (const k of union(Object.keys(x), Object.keys(y))) {
      walk(x[k], y[k], join(path, k), out, inContainer);
    }
    return;
  }
  const before = byName(a);
  const after = byName(b);
  if (before && after) {
    const containers = CONTAINER_LISTS.has(key);
    for (const name of union(before.keys(), after.keys())) {
      const x = before.get(name);
      const y = after.get(name);
      const at = `${path}[${name}]`;
      if (containers && (x === undefined || y === undefined)) {
        // A whole container added or removed: its env and args stay hidden.
        if (JSON.stringify(x) !== JSON.stringify(y)) out.push(change(at, x, y, false));
      } else {
        walk(x, y, at, out, containers || inContainer);
      }
    }
    return;
  }
  out.push(change(path, a, b, true));
}

function change(path: string, from: unknown, to: unknown, showValues: boolean): FieldChange {
  const kind = from === undefined ? 'added' : to === undefined ? 'removed' : 'changed';
  return {
    path,
    change: kind,
    ...(showValues && from !== undefined ? { from } : {}),
    ...(showValues && to !== undefined ? { to } : {}),
  };
}

/** A list whose items all carry a string `name`, by name; else undefined. */
function byName(value: unknown): Map<string, unknown> | undefined {
  if (value === undefined) return new Map();
  if (!Array.isArray(value)) return undefined;
  const out = new Map<string, unknown>();
  for (const item of value) {
    if (!isObject(item) || typeof item['name'] !== 'string') return undefined;
    out.set(item['name'], item);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function union<T>(a: Iterable<T>, b: Iterable<T>): T[] {
  return [...new Set([...a, ...b])];
}

function join(path: string, key: string): string {
  const part = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (!path) return part;
  return part.startsWith('[') ? `${path}${part}` : `${path}.${part}`;
}
