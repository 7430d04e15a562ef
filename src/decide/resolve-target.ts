// Renders a rule's target from the alert's labels and checks it names something we may touch.
import type { CompiledRule } from '../config/compile-rules.js';
import { globMatches } from '../config/namespace-glob.js';
import type { Policy, WorkloadKind } from '../config/schema.js';
import type { WorkloadRef } from '../model/workload-ref.js';

const KINDS: Record<string, WorkloadKind> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  rollout: 'Rollout',
};
// Kubernetes name rules: namespaces are DNS-1123 labels, workload names DNS-1123 subdomains.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type TargetResult = { ok: true; target: WorkloadRef } | { ok: false; reason: string };

function show(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
}

/** Why `namespace` is no Kubernetes namespace name (a DNS-1123 label), or undefined. */
export function invalidNamespace(namespace: string): string | undefined {
  if (namespace.length <= 63 && DNS_LABEL.test(namespace)) return undefined;
  return `namespace ${show(namespace)} is not a valid Kubernetes namespace name (a DNS-1123 label of at most 63 characters)`;
}

/**
 * Why the policy forbids acting in `namespace`, or undefined when it allows it. The name is
 * checked first, for every executor, so no policy glob ever runs on a value that is no namespace.
 */
export function namespaceAllowed(namespace: string, policy: Policy): string | undefined {
  const invalid = invalidNamespace(namespace);
  if (invalid) return invalid;
  if (policy.deniedNamespaces.some((g) => globMatches(g, namespace))) {
    return `namespace ${JSON.stringify(namespace)} is denied by policy.deniedNamespaces`;
  }
  if (!policy.allowedNamespaces.some((g) => globMatches(g, namespace))) {
    return `namespace ${JSON.stringify(namespace)} is not in policy.allowedNamespaces`;
  }
  return undefined;
}

export function resolveTarget(
  rule: CompiledRule,
  labels: Record<string, string>,
  policy: Policy,
): TargetResult {
  if (!rule.target) return { ok: false, reason: `rule ${rule.name} has no Kubernetes target` };
  const rawKind = rule.target.kind(labels);
  const kind = KINDS[rawKind.toLowerCase()];
  if (!kind)
    return {
      ok: false,
      reason: `kind ${show(rawKind)} is not Deployment, StatefulSet, DaemonSet or Rollout`,
    };
  const namespace = rule.target.namespace(labels);
  if (namespace === '')
    return { ok: false, reason: 'the alert has no namespace label to name the target namespace' };
  const invalid = invalidNamespace(namespace);
  if (invalid) return { ok: false, reason: invalid };
  const name = rule.target.name(labels);
  if (name === '')
    return {
      ok: false,
      reason: 'the alert has no rollout, deployment or service label to name the workload',
    };
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return { ok: false, reason: `name ${show(name)} is not a valid Kubernetes object name` };
  }
  const denied = namespaceAllowed(namespace, policy);
  if (denied) return { ok: false, reason: denied };
  return { ok: true, target: { kind, namespace, name } };
}
