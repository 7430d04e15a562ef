// The retry rule of every Slack call: a retryable failure is tried again after Slack's
// Retry-After (429) or a doubling back-off; a 429 asking to wait longer than `maxRetryAfterMs`
// gives up instead of holding the queue. Calls run off the rollback path, so waiting here never
// delays a rollback.
export type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; retryable: boolean; errorCode: string; retryAfterMs?: number; status?: number };

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  /** First back-off; doubles per attempt, at most 30 s. */
  retryBaseMs: number;
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

export async function withSlackRetries<T>(
  attempt: () => Promise<Attempt<T>>,
  policy: RetryPolicy,
  onRetry: (failure: Extract<Attempt<T>, { ok: false }>, n: number, delayMs: number) => void,
): Promise<Attempt<T>> {
  for (let n = 1; ; n++) {
    const result = await attempt();
    if (result.ok) return result;
    const delay =
      result.retryAfterMs ?? Math.min(policy.retryBaseMs * 2 ** (n - 1), MAX_BACKOFF_MS);
    if (!result.retryable || n > policy.retries || delay > policy.maxRetryAfterMs) return result;
    onRetry(result, n, delay);
    await policy.sleep(delay);
  }
}
