// Exponential backoff with jitter (half fixed, half random) for Kubernetes calls. Only Conflict and
// Transient errors are retried. `fn` gets the attempt number, so after a 409 it can re-read the
// object before trying again (the rollback patcher does); `onRetry` reports each retry.
import { KubeConflictError, TransientError } from './kube-errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The one retry policy for Kubernetes calls (executor, high availability); tests pass faster ones. */
export const KUBE_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 };

export interface RetryOptions extends RetryPolicy {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  signal?: AbortSignal;
  onRetry?: (err: Error, attempt: number, delayMs: number) => void;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof KubeConflictError || err instanceof TransientError;
}

export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err) || attempt >= options.attempts || options.signal?.aborted) throw err;
      const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(cap / 2 + (random() * cap) / 2);
      options.onRetry?.(err as Error, attempt, delayMs);
      await options.sleep(delayMs, options.signal);
    }
  }
}
