// The environment contract of contract.md "Scripts" (documented for script authors in
// rollback-scripts/README.md). Pure: the caller supplies the base env and the alert file path.
import type { Job } from '../../model/job.js';

export interface ScriptEnvOptions {
  /** Already filtered (see scriptBaseEnv). */
  baseEnv: Record<string, string>;
  alertFile: string;
  dryRun: boolean;
}

export interface ScriptEnv {
  env: Record<string, string>;
  /** Labels that could not become variables (NUL bytes, name clashes); they stay in the alert file. */
  dropped: Array<{ label: string; reason: string }>;
}

/** `ROLLBACK_LABEL_<NAME>`: upper-cased, every character outside [A-Z0-9_] replaced by `_`. */
export function labelEnvName(label: string): string {
  // Iterate by code point so one non-ASCII character becomes one `_`.
  return `ROLLBACK_LABEL_${[...label.toUpperCase()].map((c) => (/^[A-Z0-9_]$/.test(c) ? c : '_')).join('')}`;
}

/** Kubernetes-style names never contain NUL; alert label values might, and execve cannot pass them. */
const hasNul = (value: string): boolean => value.includes('\0');

/** A Kubernetes namespace name (DNS-1123 label). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The workload the script acts on: only the job's target, which the policy validated (a real
 * Kubernetes name, an allowed namespace). Without one, kind and name are empty and the namespace
 * is the alert's only when it is a valid namespace name (decide already refused one the policy
 * does not allow), for scripts that act on a namespace, such as a Helm release's. Labels that did
 * not validate never pose as a target (they are still there, raw, as ROLLBACK_LABEL_*).
 */
export function scriptTarget(job: Job): { kind: string; namespace: string; name: string } {
  if (job.target) return { ...job.target };
  const ns = job.alert.labels['namespace'] ?? '';
  return { kind: '', namespace: NAMESPACE.test(ns) ? ns : '', name: '' };
}

export function buildScriptEnv(job: Job, options: ScriptEnvOptions): ScriptEnv {
  const target = scriptTarget(job);
  const contract: Record<string, string> = {
    ROLLBACK_ALERTNAME: job.alert.alertname,
    ROLLBACK_TRIGGER: job.trigger,
    ROLLBACK_CONFIDENCE: job.confidence,
    ROLLBACK_NAMESPACE: target.namespace,
    ROLLBACK_TARGET: target.name,
    ROLLBACK_KIND: target.kind,
    ROLLBACK_JOB_ID: job.id,
    ROLLBACK_DRY_RUN: options.dryRun ? 'true' : 'false',
    ROLLBACK_ALERT_FILE: options.alertFile,
  };
  if (job.fromRevision !== undefined) contract.ROLLBACK_FROM_REVISION = String(job.fromRevision);
  if (job.toRevision !== undefined) contract.ROLLBACK_TO_REVISION = String(job.toRevision);

  const dropped: ScriptEnv['dropped'] = [];
  for (const [name, value] of Object.entries(contract)) {
    if (hasNul(value)) {
      dropped.push({ label: name, reason: `${name} contains a NUL byte` });
      contract[name] = value.replaceAll('\0', '');
    }
  }

  const labels: Record<string, string> = {};
  const owner = new Map<string, string>();
  // Sorted so that when two labels map to one name (`a-b`, `a.b`) the same one wins every time.
  for (const label of Object.keys(job.alert.labels).sort()) {
    const value = job.alert.labels[label] ?? '';
    const name = labelEnvName(label);
    const first = owner.get(name);
    if (first !== undefined) {
      dropped.push({ label, reason: `${name} is already set from label "${first}"` });
    } else if (hasNul(value)) {
      dropped.push({ label, reason: 'value contains a NUL byte' });
    } else {
      owner.set(name, label);
      labels[name] = value;
    }
  }
  return { env: { ...options.baseEnv, ...labels, ...contract }, dropped };
}
