// The cluster this controller serves: config `cluster.name`, overridden by ROLLBACK_CLUSTER_NAME.
// The environment wins so that one config (a shared ConfigMap, a GitOps repository) can serve
// every cluster while the one value that differs per cluster comes from the pod (the chart's
// `clusterName` value sets the variable).
import type { ConfigProblem } from './compile-rules.js';
import { clusterNameSchema, type ClusterConfig } from './schema.js';

export const CLUSTER_NAME_ENV = 'ROLLBACK_CLUSTER_NAME';

export function clusterIdentity(
  cluster: ClusterConfig,
  env: Record<string, string | undefined>,
  problems: ConfigProblem[],
): ClusterConfig {
  const fromEnv = env[CLUSTER_NAME_ENV];
  let name = cluster.name;
  if (fromEnv !== undefined && fromEnv !== '') {
    const checked = clusterNameSchema.safeParse(fromEnv);
    if (checked.success) name = checked.data;
    else
      problems.push({
        path: CLUSTER_NAME_ENV,
        message: `${checked.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(fromEnv.slice(0, 80))})`,
      });
  }
  if (cluster.requireLabel && name === undefined) {
    problems.push({
      path: 'cluster.requireLabel',
      message: `needs this controller's cluster name to compare with: set cluster.name or ${CLUSTER_NAME_ENV}`,
    });
  }
  return { ...cluster, ...(name !== undefined ? { name } : {}) };
}
