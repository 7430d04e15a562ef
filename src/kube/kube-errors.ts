// Every Kubernetes API failure becomes one of these, in one place, so callers branch on a class
// instead of status codes and error shapes from two HTTP stacks (ApiException, node-fetch).
import { ApiException } from '@kubernetes/client-node';

/** One entry of a Status body's `details.causes` (wire name of the type is `reason`). */
export interface StatusCause {
  reason?: string;
  field?: string;
  message?: string;
}

export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    message: string,
    readonly status?: number,
    /** The Status body's machine-readable `reason` and `details.causes`: decide on these, never on text. */
    readonly statusReason?: string,
    readonly causes: readonly StatusCause[] = [],
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
    const body = statusBody(err.body);
    const message = `${what}: ${status} ${statusMessage(err.body, body)}`;
    const args = [message, status, body?.reason, body?.causes ?? []] as const;
    if (status === 404) return new KubeNotFoundError(...args);
    if (status === 409) return new KubeConflictError(...args);
    if (status === 401 || status === 403) return new ForbiddenError(...args);
    if (status === 429 || status >= 500) return new TransientError(...args);
    if (status === 400 || status === 422) return new InvalidError(...args);
    return new KubeApiError(...args);
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

/**
 * A JSON patch the API server could not apply to the object as it is now (a failed `test`
 * precondition, a path that no longer exists). The real server answers 422 `Invalid` with no
 * field in its causes (kube-apiserver 1.35: `details: {}`), unlike a validation error, whose
 * causes always name the invalid fields. The object changed since it was read: re-read.
 */
export function isPatchNotApplicable(err: unknown): boolean {
  return (
    err instanceof InvalidError &&
    err.status === 422 &&
    err.statusReason === 'Invalid' &&
    err.causes.every((c) => !c.field)
  );
}

interface StatusBody {
  message?: string;
  reason?: string;
  causes?: StatusCause[];
}

function statusBody(body: unknown): StatusBody | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { message?: unknown; reason?: unknown; details?: { causes?: unknown } };
  const causes = Array.isArray(v.details?.causes)
    ? (v.details.causes as unknown[]).filter(
        (c): c is StatusCause => typeof c === 'object' && c !== null,
      )
    : [];
  return {
    ...(typeof v.message === 'string' ? { message: v.message } : {}),
    ...(typeof v.reason === 'string' ? { reason: v.reason } : {}),
    causes,
  };
}

/** The `message` of a `kind: Status` body (with its causes), else a short excerpt of it. */
function statusMessage(raw: unknown, body: StatusBody | undefined): string {
  if (body?.message === undefined) {
    return typeof raw === 'string' ? raw.slice(0, 200) : JSON.stringify(raw ?? '').slice(0, 200);
  }
  const causes = (body.causes ?? [])
    .map((c) => c.message)
    .filter((m): m is string => typeof m === 'string' && !body.message?.includes(m));
  return causes.length ? `${body.message} (${causes.join('; ')})` : body.message;
}
