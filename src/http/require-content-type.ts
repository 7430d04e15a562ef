// 415 before any body is read when the request's content type is not one the route takes.
import type { RequestHandler } from 'express';
import { UnsupportedMediaTypeError } from '../model/errors.js';

export function requireContentType(types: string[], message: string): RequestHandler {
  return (req, _res, next) => {
    next(req.is(types) ? undefined : new UnsupportedMediaTypeError(message));
  };
}
