// Pod template equality the way kubectl decides "current template already matches revision N":
// ignore the `pod-template-hash` label the Deployment controller adds to ReplicaSet templates,
// and compare semantically (apimachinery's Semantic.DeepEqual treats nil and empty maps/slices
// alike), so key order and null/empty fields do not matter.
import { createHash } from 'node:crypto';
import type { PodTemplate } from '../../kube/kube-types.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

export function templatesEqual(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return (
    JSON.stringify(normalize(withoutHashLabel(a))) ===
    JSON.stringify(normalize(withoutHashLabel(b)))
  );
}

/** The template as compared: no hash label, sorted keys, empty and null fields dropped. */
export function normalizeTemplate(template: PodTemplate | undefined): unknown {
  return normalize(withoutHashLabel(template));
}

/** A short fingerprint of the template as compared: equal digests ⇔ templatesEqual. */
export function templateDigest(template: PodTemplate | undefined): string {
  const text = JSON.stringify(normalizeTemplate(template)) ?? '';
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A deep copy of the template without the `pod-template-hash` label. */
export function withoutHashLabel(template: PodTemplate | undefined): PodTemplate {
  const copy = structuredClone<PodTemplate>(template ?? {});
  const labels = copy.metadata?.labels;
  if (labels && POD_TEMPLATE_HASH_LABEL in labels) {
    delete labels[POD_TEMPLATE_HASH_LABEL];
  }
  return copy;
}

/** Sorted keys, no null/undefined, no empty objects or arrays. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = normalize((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value ?? undefined;
}
