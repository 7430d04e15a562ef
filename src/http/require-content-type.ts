// 415 before any body is read when the request's content type is not one the route takes: it says
// what to send instead.
import type { RequestHandler } from 'express';
import { UnsupportedMediaTypeError } from '../model/errors.js';

/** What a client that sent JSON with the wrong header (curl -d sends a form type) must do. */
export const SET_JSON_HEADER =
  "set the header 'content-type: application/json' (curl: -H 'content-type: application/json')";

export function requireContentType(types: string[], message: string): RequestHandler {
  return (req, _res, next) => {
    next(
      req.is(types) ? undefined : new UnsupportedMediaTypeError(`${message}; ${SET_JSON_HEADER}`),
    );
  };
}

/** JSON sent as a form body: a real form never starts with `{` or `[`. */
export function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('utf8', 0, Math.min(body.length, 64)).trimStart()[0];
  return first === '{' || first === '[';
}
