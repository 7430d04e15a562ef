// Where Kubernetes access comes from (SPEC "Process"): the in-cluster service account, else
// KUBECONFIG, else ~/.kube/config. Unlike KubeConfig.loadFromDefault() this never falls back to
// http://localhost:8080, so "no cluster" is reported as such instead of as a refused connection.
import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const NO_KUBE_CONFIG =
  'no Kubernetes config found (not in a cluster, no KUBECONFIG, no ~/.kube/config)';

export type KubeConfigResult = { kubeConfig: KubeConfig } | { reason: string };

export interface LoadKubeConfigOptions {
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  exists?: (path: string) => boolean;
}

export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfigResult {
  const env = options.env ?? process.env;
  const exists = options.exists ?? existsSync;
  const home = options.homeDir ?? homedir();
  try {
    if (env.KUBERNETES_SERVICE_HOST && exists(SERVICE_ACCOUNT_TOKEN)) {
      const kc = new KubeConfig();
      kc.loadFromCluster();
      return checked(kc, 'in-cluster service account');
    }
    const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f && exists(f));
    if (files.length === 0 && !env.KUBECONFIG) {
      const file = join(home, '.kube', 'config');
      if (exists(file)) files.push(file);
    }
    if (files.length === 0) {
      return {
        reason: env.KUBECONFIG
          ? `KUBECONFIG names no existing file (${env.KUBECONFIG})`
          : NO_KUBE_CONFIG,
      };
    }
    const kc = new KubeConfig();
    kc.loadFromFile(files[0]);
    for (const file of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
    return checked(kc, files.join(delimiter));
  } catch (err) {
    // Only the error's name: a parser message can quote the file, and the file holds credentials.
    return { reason: `Kubernetes config could not be loaded (${(err as Error).name})` };
  }
}

function checked(kc: KubeConfig, source: string): KubeConfigResult {
  if (!kc.getCurrentCluster()) {
    return { reason: `Kubernetes config from ${source} has no current context with a cluster` };
  }
  return { kubeConfig: kc };
}
