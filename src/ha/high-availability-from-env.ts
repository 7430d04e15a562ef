// Builds HighAvailability from the environment and config, or nothing when leader election is
// off. Throws (with a message for the operator) when it is on but cannot work.
import type { Logger } from 'pino';
import type { CompiledRule } from '../config/compile-rules.js';
import type { Config } from '../config/schema.js';
import { namespaceAllowed } from '../decide/resolve-target.js';
import type { ReplicaKey } from '../http/replica-key.js';
import type { KubeAccess } from '../kube/connect-kube.js';
import { readHaSettings } from './ha-settings.js';
import { HighAvailability } from './high-availability.js';
import { redecideMark } from './redecide-mark.js';

export function highAvailabilityFromEnv(
  env: Record<string, string | undefined>,
  o: {
    config: Config;
    /** The rules adopted jobs are decided again under; none: adopted as the mark says. */
    rules?: readonly CompiledRule[];
    kube: KubeAccess;
    logger: Logger;
    key?: ReplicaKey;
    now?: () => number;
  },
): HighAvailability | undefined {
  const read = readHaSettings(env);
  if (!read.enabled) return undefined;
  if ('problems' in read) throw new Error(`leader election: ${read.problems.join('; ')}`);
  if ('reason' in o.kube) {
    throw new Error(`ROLLBACK_LEADER_ELECTION=true needs Kubernetes access: ${o.kube.reason}`);
  }
  const namespaces = scanNamespaces(o.config.policy.allowedNamespaces);
  return new HighAvailability({
    settings: read.settings,
    client: o.kube.client,
    cooldownMs: o.config.policy.cooldownSeconds * 1000,
    ...(namespaces ? { namespaces } : {}),
    namespaceDenied: (ns) => namespaceAllowed(ns, o.config.policy),
    ...(o.rules
      ? {
          redecide: (pending, ref) =>
            redecideMark(pending, ref, o.rules ?? [], o.config.policy, (o.now ?? Date.now)()),
        }
      : {}),
    ...(o.key ? { key: o.key } : {}),
    logger: o.logger,
    ...(o.now ? { now: o.now } : {}),
  });
}

/**
 * Where a new leader looks for pending jobs: the allowed namespaces when they are all literal
 * names (so namespaced RBAC suffices), else cluster-wide.
 */
export function scanNamespaces(allowed: readonly string[]): string[] | undefined {
  if (allowed.length === 0 || allowed.some((g) => g.includes('*'))) return undefined;
  return [...new Set(allowed)];
}
