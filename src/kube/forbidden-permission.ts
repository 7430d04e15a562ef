// Which permission a 403 says the identity lacks, read from the call that got it (the `what` every
// KubeApiError message starts with: "PATCH Deployment shop/api (dry run): 403 ..."), never from
// the server's wording.
import { ForbiddenError } from './kube-errors.js';
import { resourceLabel } from './required-permissions.js';

export interface ForbiddenPermission {
  verb: string;
  /** `resource.group`, as `kubectl auth can-i` takes it. */
  resource: string;
  namespace: string;
  message: string;
}

const GROUPS: Record<string, string> = {
  deployments: 'apps',
  statefulsets: 'apps',
  daemonsets: 'apps',
  replicasets: 'apps',
  controllerrevisions: 'apps',
  events: '',
  pods: '',
  leases: 'coordination.k8s.io',
  applications: 'argoproj.io',
  applicationsets: 'argoproj.io',
  rollouts: 'argoproj.io',
  helmreleases: 'helm.toolkit.fluxcd.io',
  kustomizations: 'kustomize.toolkit.fluxcd.io',
};

/** The refused permission, or undefined when `err` is not a 403 from a call we can name. */
export function forbiddenPermission(err: unknown): ForbiddenPermission | undefined {
  if (!(err instanceof ForbiddenError) || err.status !== 403) return undefined;
  const m = /^(GET|LIST|PATCH|CREATE|UPDATE|DELETE) (\w+) (?:in )?([a-z0-9-]+)/.exec(err.message);
  if (!m) return undefined;
  const [, verb = '', kind = '', namespace = ''] = m;
  const plural = kind.toLowerCase().endsWith('s') ? kind.toLowerCase() : `${kind.toLowerCase()}s`;
  return {
    verb: verb.toLowerCase(),
    resource: resourceLabel(GROUPS[plural] ?? '', plural),
    namespace,
    message: err.message,
  };
}
