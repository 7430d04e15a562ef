/**
 * A short code for a transport failure, taken from error names and codes, never messages (undici's
 * can name the request URL, which may be a secret): `timeout`, `ECONNREFUSED`, `request_error`.
 * Slack's clients wrap the cause in `original`.
 */
export function transportErrorCode(err: unknown): string {
  const original = (err as { original?: unknown } | undefined)?.original ?? err;
  if (!(original instanceof Error)) return 'request_error';
  if (original.name === 'TimeoutError' || original.name === 'AbortError') return 'timeout';
  const cause = (original as { cause?: { code?: unknown } }).cause;
  const code = cause?.code ?? (original as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
  return 'request_error';
}
