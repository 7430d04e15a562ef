// The resources the fake serves: one table feeds discovery, routing and the store.

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural resource name as in the URL. */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Has a status subresource: the main resource ignores status writes. */
  hasStatus?: boolean;
  /** Keeps metadata.generation, bumped on spec changes. */
  hasGeneration?: boolean;
}

const workload = { namespaced: true, hasStatus: true, hasGeneration: true, categories: ['all'] };

export const resourceTypes: ResourceType[] = [
  {
    group: '',
    version: 'v1',
    name: 'namespaces',
    singularName: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    hasStatus: true,
  },
  {
    group: '',
    version: 'v1',
    name: 'events',
    singularName: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
  },
  {
    group: 'apps',
    version: 'v1',
    name: 'deployments',
    singularName: 'deployment',
    kind: 'Deployment',
    shortNames: ['deploy'],
    ...workload,
  },
  {
    group: 'apps',
    version: 'v1',
    name: 'replicasets',
    singularName: 'replicaset',
    kind: 'ReplicaSet',
    shortNames: ['rs'],
    ...workload,
  },
  {
    group: 'apps',
    version: 'v1',
    name: 'statefulsets',
    singularName: 'statefulset',
    kind: 'StatefulSet',
    shortNames: ['sts'],
    ...workload,
  },
  {
    group: 'apps',
    version: 'v1',
    name: 'daemonsets',
    singularName: 'daemonset',
    kind: 'DaemonSet',
    shortNames: ['ds'],
    ...workload,
  },
  {
    group: 'apps',
    version: 'v1',
    name: 'controllerrevisions',
    singularName: 'controllerrevision',
    kind: 'ControllerRevision',
    namespaced: true,
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    name: 'events',
    singularName: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
  },
  // Only as records: the chart test runs `helm template --dry-run=server` here, which maps every
  // kind the chart renders and looks up the Secret it keeps across upgrades.
  ...(
    [
      ['', 'secrets', 'secret', 'Secret'],
      ['', 'configmaps', 'configmap', 'ConfigMap'],
      ['', 'services', 'service', 'Service'],
      ['', 'serviceaccounts', 'serviceaccount', 'ServiceAccount'],
      ['rbac.authorization.k8s.io', 'roles', 'role', 'Role'],
      ['rbac.authorization.k8s.io', 'rolebindings', 'rolebinding', 'RoleBinding'],
    ] as const
  ).map(([group, name, singularName, kind]) => ({
    group,
    version: 'v1',
    name,
    singularName,
    kind,
    namespaced: true,
  })),
  // Only as records: the HA tests create a replica's Pod with its address (status included, since
  // no kubelet here would fill it in); nothing schedules or runs them.
  {
    group: '',
    version: 'v1',
    name: 'pods',
    singularName: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    name: 'leases',
    singularName: 'lease',
    kind: 'Lease',
    namespaced: true,
  },
];

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function findResource(
  group: string,
  version: string,
  name: string,
): ResourceType | undefined {
  return resourceTypes.find((t) => t.group === group && t.version === version && t.name === name);
}

/**
 * By kind, for the test-facing helpers: `Event` is the core one, `Event.events.k8s.io` names
 * the group.
 */
export function resourceForKind(kind: string): ResourceType {
  const [name, ...group] = kind.toLowerCase().split('.');
  const type = resourceTypes.find(
    (t) => t.kind.toLowerCase() === name && (group.length === 0 || t.group === group.join('.')),
  );
  if (!type) throw new Error(`fake-kube does not serve kind ${kind}`);
  return type;
}

/** `deployments.apps`, as the API server names resources in error messages. */
export function qualifiedName(type: ResourceType): string {
  return type.group ? `${type.name}.${type.group}` : type.name;
}
