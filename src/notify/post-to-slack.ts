// One delivery attempt through the real @slack/webhook client, turned into data. The client's
// HTTP error carries no headers, so a wrapping fetch keeps the response's `Retry-After` for the
// retry loop. Nothing here returns or logs the error text: undici's messages can name the
// request URL, which is the webhook secret.
import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  type FetchFunction,
  type IncomingWebhookSendArguments,
} from '@slack/webhook';
import { transportErrorCode } from './transport-error-code.js';

export type PostResult =
  | { ok: true }
  | {
      ok: false;
      retryable: boolean;
      /** HTTP status when Slack answered. */
      status?: number;
      /** Bounded, URL-free description: `http_500`, `timeout`, `ECONNREFUSED`, ... */
      errorCode: string;
      /** From a 429's `Retry-After` (seconds), in ms. */
      retryAfterMs?: number;
    };

export interface PostOptions {
  timeoutMs: number;
  fetch?: FetchFunction;
}

export async function postToSlack(
  url: string,
  payload: IncomingWebhookSendArguments,
  options: PostOptions,
): Promise<PostResult> {
  const baseFetch: FetchFunction = options.fetch ?? globalThis.fetch;
  let retryAfter: string | null = null;
  const fetch: FetchFunction = async (input, init) => {
    const response = await baseFetch(input, init);
    retryAfter = response.headers.get('retry-after');
    return response;
  };
  // Retries are ours (Retry-After, metrics), so the client's own are off.
  const webhook = new IncomingWebhook(url, {
    timeout: options.timeoutMs,
    fetch,
    retryConfig: { retries: 0 },
  });
  try {
    await webhook.send(payload);
    return { ok: true };
  } catch (err) {
    if (err instanceof IncomingWebhookHTTPError) {
      const status = err.statusCode;
      const result: PostResult = {
        ok: false,
        status,
        errorCode: `http_${status}`,
        // 4xx means the message or the webhook is wrong (revoked, invalid blocks): sending it
        // again cannot help. 429 is the exception: Slack asks us to come back later.
        retryable: status === 429 || status >= 500,
      };
      const after = parseRetryAfter(retryAfter);
      if (status === 429 && after !== undefined) result.retryAfterMs = after;
      return result;
    }
    return { ok: false, retryable: true, errorCode: transportErrorCode(err) };
  }
}

/** Retry-After as delay-seconds (what Slack sends) or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
