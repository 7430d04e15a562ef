// What a rollback changes that a human checks first: container images, by container name.
import type { ImageChange } from '../../model/job.js';
import type { PodTemplate } from '../../kube/kube-types.js';

/** Image changes from the current template to the target one (init containers included). */
export function imageDiff(
  from: PodTemplate | undefined,
  to: PodTemplate | undefined,
): ImageChange[] {
  const before = images(from);
  const after = images(to);
  const names = [...new Set([...before.keys(), ...after.keys()])];
  const changes: ImageChange[] = [];
  for (const container of names) {
    const a = before.get(container) ?? null;
    const b = after.get(container) ?? null;
    if (a !== b) changes.push({ container, from: a, to: b });
  }
  return changes;
}

function images(template: PodTemplate | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const spec = template?.spec;
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    if (c.image !== undefined) out.set(c.name, c.image);
  }
  return out;
}
