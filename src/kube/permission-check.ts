// Checks up front what the identity may do (a SelfSubjectAccessReview per required permission),
// at start-up and then periodically, instead of letting the first real alert find out. Missing
// permissions are a warning, never a failure: the pod stays up so an operator can see why.
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { AccessAttributes } from './kube-client.js';
import { permissionText, type RequiredPermission } from './required-permissions.js';

export interface MissingPermission {
  verb: string;
  resource: string;
  /** '' = all namespaces. */
  namespace: string;
  feature: string;
}

export interface PermissionReport {
  checkedAt: string | null;
  checked: number;
  missing: MissingPermission[];
  /** Why the last check could not finish (no cluster configured, API server unreachable...). */
  error?: string;
}

export interface PermissionCheckOptions {
  /** Undefined when there is no Kubernetes config: nothing can be checked. */
  review: ((a: AccessAttributes) => Promise<{ allowed: boolean }>) | undefined;
  /** Why there is no review (no Kubernetes config). */
  unavailableReason?: string;
  /** What to check; a function when it depends on the cluster (what the API server serves). */
  required: readonly RequiredPermission[] | (() => Promise<readonly RequiredPermission[]>);
  metrics: Pick<Metrics, 'permissionMissing'>;
  logger: Logger;
  intervalMs: number;
  now?: () => number;
  /** Reviews in flight at once. */
  concurrency?: number;
}

export class PermissionCheck {
  private last: PermissionReport;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PermissionReport> | undefined;
  /** The permissions the last check asked about. */
  private asked: readonly RequiredPermission[] = [];

  constructor(private readonly o: PermissionCheckOptions) {
    this.last = {
      checkedAt: null,
      checked: 0,
      missing: [],
      ...(o.review
        ? {}
        : { error: `not checked: ${o.unavailableReason ?? 'no Kubernetes access'}` }),
    };
  }

  get report(): PermissionReport {
    return this.last;
  }

  /** One line for the start-up line and /readyz warnings. */
  get summary(): string {
    const r = this.last;
    if (r.error) return r.error;
    if (r.checkedAt === null) return 'not checked yet';
    if (!r.missing.length) return `ok (${r.checked} checked)`;
    return `missing: ${r.missing.map((m) => permissionText({ ...m, label: m.resource })).join(', ')}`;
  }

  /** Runs a check now (joining one in flight). Never throws. */
  check(): Promise<PermissionReport> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  start(): void {
    if (!this.o.review || this.timer) return;
    this.timer = setInterval(() => void this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<PermissionReport> {
    const review = this.o.review;
    if (!review) return this.last;
    const now = this.o.now ?? Date.now;
    const allowed: boolean[] = [];
    let required: readonly RequiredPermission[];
    try {
      required = typeof this.o.required === 'function' ? await this.o.required() : this.o.required;
      const width = this.o.concurrency ?? 8;
      for (let i = 0; i < required.length; i += width) {
        const batch = required.slice(i, i + width);
        allowed.push(
          ...(await Promise.all(
            batch.map(async ({ label: _l, feature: _f, ...a }) => (await review(a)).allowed),
          )),
        );
      }
    } catch (err) {
      // Keep the last answer (and the gauge) rather than claim everything is missing.
      const error = `could not check: ${(err as Error).message}`;
      if (this.last.error !== error) this.o.logger.warn({ err: (err as Error).message }, error);
      this.last = { ...this.last, error };
      return this.last;
    }
    const missing: MissingPermission[] = required
      .filter((_, i) => !allowed[i])
      .map((p) => ({
        verb: p.verb,
        resource: p.label,
        namespace: p.namespace,
        feature: p.feature,
      }));
    const before = this.last.missing.map((m) => permissionText({ ...m, label: m.resource }));
    this.last = { checkedAt: new Date(now()).toISOString(), checked: required.length, missing };
    this.updateGauge(required, missing);
    const after = missing.map((m) => permissionText({ ...m, label: m.resource }));
    if (after.join() !== before.join()) {
      if (after.length)
        this.o.logger.warn(
          { missing: after },
          `the controller's identity lacks ${after.length} permission(s) it needs: ${after.join(', ')}`,
        );
      else this.o.logger.info({ checked: required.length }, 'every needed permission is granted');
    }
    return this.last;
  }

  private updateGauge(
    required: readonly RequiredPermission[],
    missing: readonly MissingPermission[],
  ): void {
    const gauge = this.o.metrics.permissionMissing;
    // What is no longer required (Argo Rollouts uninstalled) is no longer missing either.
    for (const p of [...this.asked, ...required]) gauge.set({ verb: p.verb, resource: p.label }, 0);
    this.asked = required;
    for (const m of missing) gauge.set({ verb: m.verb, resource: m.resource }, 1);
  }
}
