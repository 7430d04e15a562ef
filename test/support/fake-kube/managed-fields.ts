// metadata.managedFields as the API server keeps them, reduced to what clients read: one entry
// per manager (and subresource) whose `time` moves when that manager's write changes the object,
// and which manager last wrote the pod template (`f:spec.f:template`; writing the template takes
// it from the others). Times have the server's 1 s resolution.
import type { KubeObject } from './types.js';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** The manager of a request: `?fieldManager=`, else the user agent up to its first `/`. */
export function managerOf(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const name = (userAgent ?? '').split('/')[0]?.trim();
  return name || 'unknown';
}

export function managedOnCreate(
  object: KubeObject,
  manager: string,
  time: string,
): ManagedFieldsEntry[] {
  return [entry(object, manager, time, hasTemplate(object), undefined)];
}

export function managedOnUpdate(
  old: KubeObject,
  next: KubeObject,
  manager: string,
  time: string,
  subresource: string | undefined,
): ManagedFieldsEntry[] {
  const before = (
    (old.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? []
  ).map((e) => structuredClone(e));
  const strip = (o: KubeObject) => {
    const copy = structuredClone(o) as KubeObject & { status?: unknown };
    delete (copy.metadata as { managedFields?: unknown }).managedFields;
    delete (copy.metadata as { resourceVersion?: unknown }).resourceVersion;
    if (!subresource) delete copy.status;
    return JSON.stringify(copy);
  };
  if (strip(old) === strip(next)) return before;
  const templateWritten =
    !subresource &&
    JSON.stringify((old as { spec?: { template?: unknown } }).spec?.template) !==
      JSON.stringify((next as { spec?: { template?: unknown } }).spec?.template);
  const mine = before.find((e) => e.manager === manager && e.subresource === subresource);
  const others = before.filter((e) => e !== mine);
  if (templateWritten) {
    for (const e of others) {
      const spec = e.fieldsV1['f:spec'] as Record<string, unknown> | undefined;
      if (!e.subresource && spec) delete spec['f:template'];
    }
  }
  const ownsTemplate =
    templateWritten ||
    Boolean((mine?.fieldsV1['f:spec'] as Record<string, unknown> | undefined)?.['f:template']);
  return [...others, entry(next, manager, time, ownsTemplate && hasTemplate(next), subresource)];
}

function entry(
  object: KubeObject,
  manager: string,
  time: string,
  template: boolean,
  subresource: string | undefined,
): ManagedFieldsEntry {
  return {
    manager,
    operation: 'Update',
    apiVersion: object.apiVersion,
    time,
    fieldsType: 'FieldsV1',
    fieldsV1: subresource
      ? { 'f:status': {} }
      : { 'f:metadata': {}, 'f:spec': template ? { 'f:template': {} } : {} },
    ...(subresource ? { subresource } : {}),
  };
}

function hasTemplate(object: KubeObject): boolean {
  return (object as { spec?: { template?: unknown } }).spec?.template !== undefined;
}
