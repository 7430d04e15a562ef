// Every Kubernetes API failure becomes one of these, in one place, so callers branch on a class
// instead of status codes and error shapes from two HTTP stacks (ApiException, node-fetch).
import { ApiException } from '@kubernetes/client-node';

export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
export class KubeNotFoundError extends KubeApiError {
  override name = 'KubeNotFoundError';
}
export class KubeConflictError extends KubeApiError {
  override name = 'KubeConflictError';
}
/** 5xx, 429, timeouts and broken connections: worth retrying. */
export class TransientError extends KubeApiError {
  override name = 'TransientError';
}
export class ForbiddenError extends KubeApiError {
  override name = 'ForbiddenError';
}
export class InvalidError extends KubeApiError {
  override name = 'InvalidError';
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** Map anything the client throws to a typed error; `what` names the call ("GET Deployment x/y"). */
export function toKubeError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const status = err.code;
    const message = `${what}: ${status} ${statusMessage(err.body)}`;
    if (status === 404) return new KubeNotFoundError(message, status);
    if (status === 409) return new KubeConflictError(message, status);
    if (status === 401 || status === 403) return new ForbiddenError(message, status);
    if (status === 429 || status >= 500) return new TransientError(message, status);
    if (status === 400 || status === 422) return new InvalidError(message, status);
    return new KubeApiError(message, status);
  }
  const e = err as { name?: string; code?: string; type?: string; message?: string } | undefined;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new TransientError(`${what}: request timed out`);
  }
  if (e?.code && TRANSIENT_CODES.has(e.code)) {
    return new TransientError(`${what}: ${e.code}`);
  }
  // node-fetch reports socket-level failures without a code as type 'system'.
  if (e?.type === 'system' || /socket hang up|network|ECONN/i.test(e?.message ?? '')) {
    return new TransientError(`${what}: ${e?.message ?? 'connection failed'}`);
  }
  return new KubeApiError(`${what}: ${e?.message ?? String(err)}`);
}

/** The `message` of a `kind: Status` body, else a short excerpt of it. */
function statusMessage(body: unknown): string {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.slice(0, 200);
    }
  }
  const message = (value as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(value ?? '').slice(0, 200);
}
