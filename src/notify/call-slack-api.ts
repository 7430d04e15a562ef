// One Web API call through the real @slack/web-api client, turned into data. Slack answers most
// errors as HTTP 200 `{ ok: false, error: "..." }` (the client throws a platform error); 429 with
// Retry-After is a rate limit. Only Slack's short error code is kept: never the error's text.
import { ErrorCode, type WebAPICallResult, type WebClient } from '@slack/web-api';
import { transportErrorCode } from './transport-error-code.js';

export type ApiResult =
  | { ok: true; data: WebAPICallResult }
  | { ok: false; retryable: boolean; errorCode: string; retryAfterMs?: number };

/** Platform errors that say "try again later" rather than "this request is wrong". */
const RETRYABLE_ERRORS: ReadonlySet<string> = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'team_added_to_org',
]);

export async function callSlackApi(
  client: WebClient,
  method: string,
  args: Record<string, unknown>,
): Promise<ApiResult> {
  try {
    return { ok: true, data: await client.apiCall(method, args) };
  } catch (err) {
    return failure(err);
  }
}

function failure(err: unknown): ApiResult {
  const e = err as { code?: unknown; data?: { error?: unknown }; retryAfter?: unknown };
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return {
        ok: false,
        retryable: true,
        errorCode: 'ratelimited',
        ...(typeof e.retryAfter === 'number' ? { retryAfterMs: e.retryAfter * 1000 } : {}),
      };
    case ErrorCode.PlatformError: {
      const raw = e.data?.error;
      const code = typeof raw === 'string' ? raw : '';
      const bounded = /^[a-z_]{1,60}$/.test(code) ? code : 'platform_error';
      return { ok: false, retryable: RETRYABLE_ERRORS.has(bounded), errorCode: bounded };
    }
    case ErrorCode.HTTPError: {
      const status = Number((err as { statusCode?: unknown }).statusCode);
      return { ok: false, retryable: !(status < 500), errorCode: `http_${status}` };
    }
    default:
      return { ok: false, retryable: true, errorCode: transportErrorCode(err) };
  }
}
