// The Kubernetes executor when no cluster configuration could be loaded: the server still starts,
// /readyz and /status say why, dry runs answer `unavailable`, and jobs fail with the reason.
import type { Executor } from '../../model/executor.js';

export function unavailableKubernetesExecutor(reason: string): Executor {
  const noTarget = 'job has no Kubernetes target';
  const fail = async (job: { target?: unknown }) => ({
    outcome: 'failed' as const,
    reason: job.target ? `Kubernetes executor unavailable: ${reason}` : noTarget,
  });
  return {
    name: 'kubernetes',
    availability: async () => ({ available: false, reason }),
    pin: async () => ({}),
    plan: async (job) =>
      job.target ? { action: 'unavailable', reason } : { action: 'skip', reason: noTarget },
    execute: fail,
    recover: fail,
  };
}
