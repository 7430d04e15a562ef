// Named errors the HTTP layer maps to status codes (one place: http/error-handler.ts).
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
  }
}
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
export class ConflictError extends Error {
  override name = 'ConflictError';
}
/** The request could not be made durable or served now; the client should retry (503). */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}
/** The request body's content type is not one the route accepts (415). */
export class UnsupportedMediaTypeError extends Error {
  override name = 'UnsupportedMediaTypeError';
}
/** The route exists but not for this method (405, with an Allow header). */
export class MethodNotAllowedError extends Error {
  override name = 'MethodNotAllowedError';
}
