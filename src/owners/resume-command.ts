// The exact command a human runs to turn an owner back on once Git is fixed. Names are
// Kubernetes object names (DNS labels/subdomains), never alert text.
import type { ObjectRef, SuspendedOwner } from '../model/owner.js';
import { FLUX_RECONCILE } from './owner-objects.js';

export function resumeCommand(
  owner: SuspendedOwner['owner'],
  ref: ObjectRef,
  automated: Record<string, boolean> = {},
): string {
  switch (owner) {
    case 'argocd': {
      const patch = JSON.stringify({ spec: { syncPolicy: { automated } } });
      return `kubectl -n ${ref.namespace} patch applications.argoproj.io ${ref.name} --type merge -p '${patch}'`;
    }
    case 'flux_kustomization':
      return `kubectl -n ${ref.namespace} annotate ${ref.kind.toLowerCase()} ${ref.name} ${FLUX_RECONCILE}-`;
    case 'flux_helmrelease':
      return `flux resume helmrelease ${ref.name} -n ${ref.namespace}`;
  }
}
