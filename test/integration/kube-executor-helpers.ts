// Shared set-up for the Kubernetes executor integration tests: a job, a recording execution
// context and an executor pointed at a fake API server with test-sized timings.
import { connectKube } from '../../src/kube/connect-kube.js';
import type { ExecutionContext, JobPatch, ProgressEvent } from '../../src/model/executor.js';
import type { Executor } from '../../src/model/executor.js';
import {
  createKubernetesExecutor,
  type KubernetesExecutorOptions,
} from '../../src/executors/kubernetes/kubernetes-executor.js';
import type { Job } from '../../src/model/job.js';
import type { WorkloadRef } from '../../src/model/workload-ref.js';

let counter = 0;

export function makeJob(target: WorkloadRef, overrides: Partial<Job> = {}): Job {
  const id = `job-${process.pid}-${++counter}`;
  return {
    id,
    targetKey: `${target.kind}/${target.namespace}/${target.name}`,
    executor: 'kubernetes',
    origin: 'alert',
    target,
    rule: 'critical-error-rate',
    trigger: 'error_rate_threshold',
    confidence: 'high',
    alert: {
      alertname: 'CriticalErrorRate',
      fingerprint: 'abc123',
      startsAt: new Date(Date.now() + 1000).toISOString(),
      labels: { alertname: 'CriticalErrorRate', severity: 'critical', namespace: target.namespace },
      annotations: {},
      generatorURL: '',
      externalURL: '',
      receivedAt: Date.now(),
    },
    coalesced: [],
    state: 'running',
    createdAt: new Date().toISOString(),
    timeline: [],
    ...overrides,
  };
}

export interface RecordingContext {
  ctx: ExecutionContext;
  events: ProgressEvent[];
  updates: JobPatch[];
  abort: AbortController;
}

export function makeContext(
  options: { rolloutTimeoutMs?: number; onUpdate?: (patch: JobPatch) => void } = {},
): RecordingContext {
  const events: ProgressEvent[] = [];
  const updates: JobPatch[] = [];
  const abort = new AbortController();
  return {
    events,
    updates,
    abort,
    ctx: {
      signal: abort.signal,
      rolloutTimeoutMs: options.rolloutTimeoutMs ?? 20_000,
      progress: (e) => void events.push(e),
      update: async (patch) => {
        updates.push(patch);
        options.onUpdate?.(patch);
      },
    },
  };
}

export function executorFor(
  kubeconfigPath: string,
  overrides: Partial<KubernetesExecutorOptions> = {},
): Executor {
  const kube = connectKube({
    env: { KUBECONFIG: kubeconfigPath },
    requestTimeoutMs: overrides.requestTimeoutMs ?? 2000,
  });
  return createKubernetesExecutor(kube, {
    optOutAnnotation: 'rollback-controller.io/disabled',
    pollIntervalMs: 25,
    requestTimeoutMs: 2000,
    retry: { attempts: 5, baseDelayMs: 10, maxDelayMs: 50 },
    ...overrides,
  });
}

/** Apply `job`'s pin like the queue does (fields merged onto the job). */
export async function pinned(executor: Executor, job: Job): Promise<Job> {
  return { ...job, ...(await executor.pin!(job)) };
}
