// A team that opted its workload out of automatic rollback (the opt-out annotation) is not
// rolled back by a script either: script jobs that name a workload pass this check in the dry
// run and again just before the script starts. The Kubernetes executor applies the same rule
// (optedOut) when it resolves the rollback. A failed read refuses (fail closed); without any
// cluster configuration there is nothing to read and the script may not need one.
import type { KubeAccess } from '../kube/connect-kube.js';
import { KubeNotFoundError } from '../kube/kube-errors.js';
import type { PreActCheck } from '../model/pre-act-check.js';
import { optedOut } from './kubernetes/resolve-rollback.js';

export function workloadOptOutCheck(kube: KubeAccess, annotation: string): PreActCheck {
  return {
    name: 'opt-out',
    inDryRun: true,
    applies: (job) => job.executor === 'script' && !!job.target && 'client' in kube,
    async check(job, signal) {
      if (!job.target || !('client' in kube)) return { go: true };
      const ref = `${job.target.kind} ${job.target.namespace}/${job.target.name}`;
      let annotations: Record<string, string>;
      try {
        annotations =
          (await kube.client.readWorkload(job.target, signal)).metadata.annotations ?? {};
      } catch (err) {
        if (!(err instanceof KubeNotFoundError))
          return {
            go: false,
            reason: `could not read ${ref} to check its ${annotation} annotation (${(err as Error).message}); the script was not run`,
          };
        annotations = {}; // nothing there to opt out
      }
      const value = annotations[annotation];
      return optedOut(value)
        ? {
            go: false,
            reason: `${ref} opted out of automatic rollback (annotation ${annotation}=${JSON.stringify(value)}); the script was not run`,
          }
        : { go: true };
    },
  };
}
