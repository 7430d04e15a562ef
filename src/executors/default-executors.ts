// The production executors, built from config. Tests pass their own.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ExecutorName } from '../model/job.js';
import { namespaceAllowed } from '../decide/resolve-target.js';
import type { Executor } from '../model/executor.js';
import { createKubeClient } from '../kube/kube-client.js';
import { KubeNotFoundError } from '../kube/kube-errors.js';
import { createKubernetesExecutor } from './kubernetes/kubernetes-executor.js';
import { loadKubeConfig } from '../kube/load-kube-config.js';
import { createScriptExecutor } from './script/create-script-executor.js';
import { withWorkloadPin } from './with-workload-pin.js';

export function defaultExecutors(
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv,
): Partial<Record<ExecutorName, Executor>> {
  const kubernetes = createKubernetesExecutor({
    env,
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
  });
  const script = createScriptExecutor({
    scriptsDir: config.scriptsDir,
    env,
    logger: logger.child({ component: 'script' }),
  });
  // Script jobs honour the workload's opt-out annotation too (with-workload-pin.ts).
  const loaded = loadKubeConfig({ env });
  const client =
    'kubeConfig' in loaded
      ? createKubeClient(loaded.kubeConfig, { requestTimeoutMs: 10_000 })
      : undefined;
  const optOut = {
    annotation: config.policy.optOutAnnotation,
    async read(
      ref: Parameters<NonNullable<typeof client>['readWorkload']>[0],
      signal?: AbortSignal,
    ) {
      if (!client) return undefined; // no cluster configured: a script may not need one
      try {
        return (await client.readWorkload(ref, signal)).metadata.annotations ?? {};
      } catch (err) {
        if (err instanceof KubeNotFoundError) return {}; // nothing there to opt out
        throw err;
      }
    },
  };
  return { kubernetes, script: withWorkloadPin(script, kubernetes, optOut) };
}
