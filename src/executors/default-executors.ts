// The production executors, built from config over the process's one Kubernetes client (or the
// reason there is none). Tests pass their own.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ExecutorName } from '../model/job.js';
import { namespaceAllowed } from '../decide/resolve-target.js';
import type { Executor } from '../model/executor.js';
import type { KubeAccess } from '../kube/connect-kube.js';
import type { WatchCache } from '../kube/watch-cache.js';
import { defined } from '../model/defined.js';
import { createKubernetesExecutor } from './kubernetes/kubernetes-executor.js';
import { createScriptExecutor } from './script/create-script-executor.js';
import { withWorkloadPin } from './with-workload-pin.js';

export function defaultExecutors(
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv,
  kube: KubeAccess,
  cache?: WatchCache,
): Partial<Record<ExecutorName, Executor>> {
  const kubernetes = createKubernetesExecutor(kube, {
    optOutAnnotation: config.policy.optOutAnnotation,
    owners: {
      argocd: config.policy.owners.argocd,
      flux: config.policy.owners.flux,
      argocdNamespaces: config.policy.owners.argocdNamespaces,
      namespaceProblem: (ns) => namespaceAllowed(ns, config.policy),
    },
    maxRevisionAgeSeconds: config.policy.maxRevisionAgeSeconds,
    deleteStuckPods: config.policy.deleteStuckPods,
    pollIntervalMs: config.rollout.pollIntervalSeconds * 1000,
    logger: logger.child({ component: 'kubernetes' }),
    ...defined({ cache }),
  });
  const script = createScriptExecutor({
    scriptsDir: config.scriptsDir,
    env,
    logger: logger.child({ component: 'script' }),
  });
  return { kubernetes, script: withWorkloadPin(script, kubernetes) };
}
