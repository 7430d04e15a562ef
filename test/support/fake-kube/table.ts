// Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which plain
// `kubectl get` asks for: a few columns per kind, like the real printers.
import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

type Status = Record<string, number | undefined>;
interface Column {
  name: string;
  type: string;
  cell: (o: KubeObject & { spec?: Record<string, unknown>; status?: Status }) => string | number;
}

const name: Column = { name: 'Name', type: 'string', cell: (o) => o.metadata.name };
const age: Column = {
  name: 'Age',
  type: 'string',
  cell: (o) => since(o.metadata.creationTimestamp),
};
const n = (value: unknown) => Number(value ?? 0);

const columns: Record<string, Column[]> = {
  Deployment: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${n(o.status?.readyReplicas)}/${n(o.spec?.replicas)}`,
    },
    { name: 'Up-to-date', type: 'integer', cell: (o) => n(o.status?.updatedReplicas) },
    { name: 'Available', type: 'integer', cell: (o) => n(o.status?.availableReplicas) },
    age,
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => n(o.spec?.replicas) },
    { name: 'Current', type: 'integer', cell: (o) => n(o.status?.replicas) },
    { name: 'Ready', type: 'integer', cell: (o) => n(o.status?.readyReplicas) },
    age,
  ],
  StatefulSet: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${n(o.status?.readyReplicas)}/${n(o.spec?.replicas)}`,
    },
    age,
  ],
  DaemonSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => n(o.status?.desiredNumberScheduled) },
    { name: 'Current', type: 'integer', cell: (o) => n(o.status?.currentNumberScheduled) },
    { name: 'Ready', type: 'integer', cell: (o) => n(o.status?.numberReady) },
    { name: 'Up-to-date', type: 'integer', cell: (o) => n(o.status?.updatedNumberScheduled) },
    { name: 'Available', type: 'integer', cell: (o) => n(o.status?.numberAvailable) },
    age,
  ],
  ControllerRevision: [
    name,
    { name: 'Controller', type: 'string', cell: (o) => controller(o) },
    { name: 'Revision', type: 'integer', cell: (o) => n(o.revision) },
    age,
  ],
};

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept);
}

export function toTable(type: ResourceType, items: KubeObject[], resourceVersion: string) {
  const cols = columns[type.kind] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.name === 'Name' ? 'name' : '',
      description: '',
      priority: 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

function controller(o: KubeObject): string {
  const ref = o.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) return '<none>';
  const group = ref.apiVersion.includes('/') ? `.${ref.apiVersion.split('/')[0]}` : '';
  return `${ref.kind.toLowerCase()}${group}/${ref.name}`;
}

/** Human age as kubectl prints it: 45s, 3m, 2h, 4d. */
function since(created: string): string {
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(created)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
