// A small stand-in for Argo CD self-heal and Flux reconciliation, by their documented rules: every
// second it re-applies what "Git" says (the workload's image, a child Application's sync policy)
// unless the owner is suspended:
// - Argo CD: only while the Application has `spec.syncPolicy.automated` (and `enabled` is not
//   false) with `selfHeal: true`; an app-of-apps parent restores its child Application's spec.
// - Flux Kustomization: unless `spec.suspend` or the object carries
//   `kustomize.toolkit.fluxcd.io/reconcile: disabled`.
// - Flux HelmRelease: unless `spec.suspend`.
import { isDeepStrictEqual } from 'node:util';
import type { KubeCluster } from '../support/kube-cluster/index.js';
import { until } from '../support/until.js';

export type Managed =
  | { by: 'argocd'; app: string; ns: string; name: string; image: string }
  | { by: 'argocd-parent'; parent: string; child: string; syncPolicy: unknown }
  | {
      by: 'flux-kustomization';
      kustomization: [string, string];
      ns: string;
      name: string;
      image: string;
    }
  | {
      by: 'flux-helmrelease';
      helmRelease: [string, string];
      ns: string;
      name: string;
      image: string;
    };

export const APPS = '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications';

export class GitReconciler {
  /** Completed passes over everything managed. */
  passes = 0;
  /** Writes the reconciler made to put Git's state back. */
  readonly reverts: string[] = [];
  private readonly managed: Managed[] = [];
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  constructor(private readonly cluster: KubeCluster) {
    this.timer = setInterval(() => void this.pass(), 1000);
  }

  manage(m: Managed): void {
    this.managed.push(m);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Waits for `n` full passes that start after now. */
  async settle(n = 3): Promise<void> {
    const target = this.passes + n + 1;
    await until(() => this.passes >= target, 30_000, `${n} reconciler passes`);
  }

  private async pass(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const m of this.managed) await this.reconcile(m);
      this.passes += 1;
    } catch {
      // A transient API error: the next pass tries again, as a real controller would.
    } finally {
      this.busy = false;
    }
  }

  private async reconcile(m: Managed): Promise<void> {
    const http = this.cluster.http;
    if (m.by === 'argocd-parent') {
      // The child first, then the parent, and the write conditional on the child read: the
      // controller suspends the parent before the child, so no stale decision lands.
      const child = await http.ok('GET', `${APPS}/${m.child}`);
      const parent = await http.ok('GET', `${APPS}/${m.parent}`);
      if (!selfHeals(parent)) return;
      if (isDeepStrictEqual(child.spec.syncPolicy ?? null, m.syncPolicy)) return;
      const r = await http.call(
        'PATCH',
        `${APPS}/${m.child}`,
        {
          metadata: { resourceVersion: child.metadata.resourceVersion },
          spec: { syncPolicy: m.syncPolicy },
        },
        'application/merge-patch+json',
      );
      if (r.status === 409) return;
      if (r.status >= 300) throw new Error(`re-applying Git failed: ${r.status}`);
      this.reverts.push(`Application argocd/${m.child}`);
      return;
    }
    // One read of the live object decides, and the write is conditional on it (resourceVersion):
    // a decision made before the controller's rollback patch never lands after it.
    const live = await this.cluster.get('Deployment', m.ns, m.name);
    if (m.by === 'argocd') {
      const app = await http.ok('GET', `${APPS}/${m.app}`);
      if (!selfHeals(app)) return;
    } else if (m.by === 'flux-kustomization') {
      const [ns, name] = m.kustomization;
      const ks = await http.ok(
        'GET',
        `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${ns}/kustomizations/${name}`,
      );
      if (ks.spec.suspend === true) return;
      if (live.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'] === 'disabled')
        return;
    } else {
      const [ns, name] = m.helmRelease;
      const hr = await http.ok(
        'GET',
        `/apis/helm.toolkit.fluxcd.io/v2/namespaces/${ns}/helmreleases/${name}`,
      );
      if (hr.spec.suspend === true) return;
    }
    const container = live.spec.template.spec.containers[0];
    if (container.image === m.image) return;
    const r = await http.call(
      'PATCH',
      `/apis/apps/v1/namespaces/${m.ns}/deployments/${m.name}`,
      {
        metadata: { resourceVersion: live.metadata.resourceVersion },
        spec: { template: { spec: { containers: [{ name: container.name, image: m.image }] } } },
      },
      'application/strategic-merge-patch+json',
    );
    if (r.status === 409) return; // changed since the read: decide again on the next pass
    if (r.status >= 300) throw new Error(`re-applying Git failed: ${r.status}`);
    this.reverts.push(`Deployment ${m.ns}/${m.name}`);
  }
}

function selfHeals(app: any): boolean {
  const automated = app.spec?.syncPolicy?.automated;
  return !!automated && automated.enabled !== false && automated.selfHeal === true;
}
