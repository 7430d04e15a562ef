// Label and field selectors in the API server's query syntax, plus the LabelSelector objects
// workloads carry (matchLabels / matchExpressions).
import { ApiError, type LabelSelectorSpec } from './types.js';

export type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

export type Labels = Record<string, string> | undefined;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; throws ApiError 400 on bad syntax. */
export function parseLabelSelector(text: string): Requirement[] {
  const requirements: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    if (!term) continue;
    let m: RegExpMatchArray | null;
    if ((m = /^!\s*([\w./-]+)$/.exec(term))) {
      requirements.push({ key: m[1], op: '!exists' });
    } else if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = m[3].split(',').map((v) => v.trim());
      requirements.push({ key: m[1], op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term))) {
      requirements.push({ key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
    } else if ((m = /^([\w./-]+)$/.exec(term))) {
      requirements.push({ key: m[1], op: 'exists' });
    } else {
      throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${JSON.stringify(term)}`);
    }
  }
  return requirements;
}

export function matchesLabels(requirements: Requirement[], labels: Labels): boolean {
  return requirements.every((r) => {
    const value = labels?.[r.key];
    switch (r.op) {
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        // As in Kubernetes, `notin` and `!=` also match objects without the label.
        return value === undefined || !r.values.includes(value);
      case 'exists':
        return value !== undefined;
      case '!exists':
        return value === undefined;
    }
  });
}

/** A workload's `spec.selector` as requirements; an empty selector matches everything. */
export function fromLabelSelector(selector: LabelSelectorSpec): Requirement[] {
  const requirements: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(
    ([key, value]) => ({ key, op: 'in', values: [value] }),
  );
  for (const e of selector.matchExpressions ?? []) {
    const op = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' }[e.operator];
    if (op === 'in' || op === 'notin')
      requirements.push({ key: e.key, op, values: e.values ?? [] });
    else if (op === 'exists' || op === '!exists') requirements.push({ key: e.key, op });
    else
      throw new ApiError(422, 'Invalid', `"${e.operator}" is not a valid label selector operator`);
  }
  return requirements;
}

export interface FieldRequirement {
  path: string;
  value: string;
  negate: boolean;
}

/** `metadata.name=web,involvedObject.kind!=Pod`: any dotted path into the object. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  return splitTopLevel(text)
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term) => {
      const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
      if (!m) throw new ApiError(400, 'BadRequest', `invalid selector: '${text}'`);
      return { path: m[1], value: m[3], negate: m[2] === '!=' };
    });
}

export function matchesFields(requirements: FieldRequirement[], object: unknown): boolean {
  return requirements.every((r) => {
    let value: unknown = object;
    for (const part of r.path.split('.')) {
      value =
        value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    const text =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : '';
    return (text === r.value) !== r.negate;
  });
}

/** Splits on commas outside parentheses (so `in (a,b)` stays whole). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}
