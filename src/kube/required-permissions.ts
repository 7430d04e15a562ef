// What the enabled features need the controller's identity to be allowed to do, per namespace.
// Pure: the permission check (permission-check.ts) asks the API server about each.
import type { Policy } from '../config/schema.js';
import type { AccessAttributes } from './kube-client.js';

export interface RequiredPermission extends AccessAttributes {
  /** `resource.group` as `kubectl auth can-i` takes it (a bounded metric label). */
  label: string;
  /** Which feature needs it, for the operator reading the report. */
  feature: string;
}

const WORKLOAD: Array<[verb: string, group: string, resource: string, feature: string]> = [
  ['get', 'apps', 'deployments', 'rollback'],
  ['patch', 'apps', 'deployments', 'rollback'],
  ['get', 'apps', 'statefulsets', 'rollback'],
  ['patch', 'apps', 'statefulsets', 'rollback'],
  ['get', 'apps', 'daemonsets', 'rollback'],
  ['patch', 'apps', 'daemonsets', 'rollback'],
  ['list', 'apps', 'replicasets', 'revision history'],
  ['list', 'apps', 'controllerrevisions', 'revision history'],
  ['create', '', 'events', 'rollback Event on the workload'],
  ['list', '', 'pods', 'stuck StatefulSet pods'],
];

/**
 * Argo Rollouts `Rollout` targets: required wherever the API server serves rollouts.argoproj.io
 * (Argo Rollouts is installed, so an alert may name a Rollout); the chart grants them with
 * argoRollouts.enabled. Not served: nothing to check, nothing reported missing.
 */
const ARGO_ROLLOUTS: Array<[verb: string, resource: string, subresource: string, feature: string]> =
  [
    ['get', 'rollouts', '', 'Argo Rollouts targets (chart: argoRollouts.enabled)'],
    ['patch', 'rollouts', '', 'Argo Rollouts targets: undo (chart: argoRollouts.enabled)'],
    [
      'patch',
      'rollouts',
      'status',
      'Argo Rollouts targets: abort and promoteFull (chart: argoRollouts.enabled)',
    ],
  ];

/** Only a new leader lists Rollouts (for the marks of a dead leader's pending jobs). */
const ROLLOUTS_ADOPTION: (typeof ARGO_ROLLOUTS)[number] = [
  'list',
  'rollouts',
  '',
  'leader election: adopting pending Rollout jobs (chart: argoRollouts.enabled)',
];

export function resourceLabel(group: string, resource: string, subresource = ''): string {
  return `${group ? `${resource}.${group}` : resource}${subresource ? `/${subresource}` : ''}`;
}

/**
 * Exact names in policy.allowedNamespaces are checked one by one; a glob (`*`, `team-*`) may
 * match namespaces that do not exist yet, so it is checked for all namespaces ('').
 */
export function namespacesToCheck(policy: Pick<Policy, 'allowedNamespaces'>): string[] {
  const globbed = policy.allowedNamespaces.some((g) => g.includes('*'));
  const exact = policy.allowedNamespaces.filter((g) => !g.includes('*'));
  return [...new Set([...(globbed ? [''] : []), ...exact])];
}

export function requiredPermissions(o: {
  policy: Pick<Policy, 'allowedNamespaces'> & Partial<Pick<Policy, 'deleteStuckPods'>>;
  /** With leader election: the Lease and the namespace it lives in. */
  lease?: { namespace: string; name: string };
  /** The API server serves rollouts.argoproj.io (Argo Rollouts is installed). */
  argoRollouts?: boolean;
}): RequiredPermission[] {
  const out: RequiredPermission[] = [];
  const add = (
    verb: string,
    group: string,
    resource: string,
    namespace: string,
    feature: string,
    name?: string,
  ) =>
    out.push({
      verb,
      group,
      resource,
      namespace,
      ...(name ? { name } : {}),
      label: resourceLabel(group, resource),
      feature,
    });
  for (const ns of namespacesToCheck(o.policy)) {
    for (const [verb, group, resource, feature] of WORKLOAD)
      add(verb, group, resource, ns, feature);
    if (o.policy.deleteStuckPods) add('delete', '', 'pods', ns, 'policy.deleteStuckPods');
    if (!o.argoRollouts) continue;
    const rollouts = o.lease ? [...ARGO_ROLLOUTS, ROLLOUTS_ADOPTION] : ARGO_ROLLOUTS;
    for (const [verb, resource, subresource, feature] of rollouts)
      out.push({
        verb,
        group: 'argoproj.io',
        resource,
        ...(subresource ? { subresource } : {}),
        namespace: ns,
        label: resourceLabel('argoproj.io', resource, subresource),
        feature,
      });
  }
  if (o.lease) {
    const { namespace, name } = o.lease;
    add('get', 'coordination.k8s.io', 'leases', namespace, 'leader election', name);
    add('update', 'coordination.k8s.io', 'leases', namespace, 'leader election', name);
    add('get', '', 'pods', namespace, "leader election (the leader's pod address)");
  }
  return out;
}

/** "patch deployments.apps in shop" / "... in all namespaces". */
export function permissionText(
  p: Pick<RequiredPermission, 'verb' | 'label' | 'namespace'>,
): string {
  return `${p.verb} ${p.label} in ${p.namespace ? p.namespace : 'all namespaces'}`;
}
