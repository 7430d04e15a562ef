// `helm` against a test cluster, with helm's cache, config and data folders under the test's own
// folder (nothing from the user's home), and helm's stderr in the error when it fails.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeCluster } from './kube-cluster/index.js';
import { helmPath } from './tools.js';

const run = promisify(execFile);

export async function helmOn(
  cluster: KubeCluster,
  dir: string,
  args: string[],
  timeoutMs: number,
): Promise<string> {
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(dir, 'helm-cache'),
    HELM_CONFIG_HOME: join(dir, 'helm-config'),
    HELM_DATA_HOME: join(dir, 'helm-data'),
    KUBECONFIG: cluster.kubeconfigPath,
  };
  try {
    return (await run(helmPath(), args, { env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }))
      .stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`helm ${args.join(' ')}: ${err.stderr || err.message}`);
  }
}
