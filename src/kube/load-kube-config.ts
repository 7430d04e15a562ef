// Where Kubernetes access comes from (contract: charts/rollback-controller/docs/contract.md,
// "Process"): the in-cluster service account, else KUBECONFIG, else ~/.kube/config, with
// ROLLBACK_KUBE_CONTEXT choosing a context of the kubeconfig (an explicit choice, so it wins over
// the in-cluster account). Unlike KubeConfig.loadFromDefault() this never falls back to
// http://localhost:8080, so "no cluster" is reported as such instead of as a refused connection.
import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const NO_KUBE_CONFIG =
  'no Kubernetes config found (not in a cluster, no KUBECONFIG, no ~/.kube/config)';

export const KUBE_CONTEXT_ENV = 'ROLLBACK_KUBE_CONTEXT';

/** Which cluster the config points at, for the start-up line, /status, the dry run and Slack. */
export interface KubeTarget {
  /** The API server URL. */
  server: string;
  /** The kubeconfig context, or `in-cluster`. */
  context: string;
}

export type KubeConfigResult = { kubeConfig: KubeConfig; target: KubeTarget } | { reason: string };

export interface LoadKubeConfigOptions {
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  exists?: (path: string) => boolean;
}

export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfigResult {
  const env = options.env ?? process.env;
  const exists = options.exists ?? existsSync;
  const home = options.homeDir ?? homedir();
  const context = env['ROLLBACK_KUBE_CONTEXT'] || undefined;
  try {
    if (!context && env.KUBERNETES_SERVICE_HOST && exists(SERVICE_ACCOUNT_TOKEN)) {
      const kc = new KubeConfig();
      kc.loadFromCluster();
      return checked(kc, 'in-cluster service account', 'in-cluster');
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
    if (context) {
      if (!kc.getContextObject(context)) {
        const known = kc.getContexts().map((c) => c.name);
        return {
          reason: `${KUBE_CONTEXT_ENV}=${context} names no context in ${files.join(delimiter)} (contexts: ${known.join(', ') || 'none'})`,
        };
      }
      kc.setCurrentContext(context);
    }
    return checked(kc, files.join(delimiter), kc.getCurrentContext());
  } catch (err) {
    // Only the error's name: a parser message can quote the file, and the file holds credentials.
    return { reason: `Kubernetes config could not be loaded (${(err as Error).name})` };
  }
}

function checked(kc: KubeConfig, source: string, context: string): KubeConfigResult {
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    return { reason: `Kubernetes config from ${source} has no current context with a cluster` };
  }
  return { kubeConfig: kc, target: { server: withoutUserInfo(cluster.server), context } };
}

/** The server URL as shown to people: never with a user or password in it. */
function withoutUserInfo(server: string): string {
  try {
    const url = new URL(server);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}
