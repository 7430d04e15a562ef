// One place that maps errors to status codes. Only 5xx are logged as errors; the rest are the
// client's to fix and the message says how.
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import {
  ConflictError,
  InputError,
  MethodNotAllowedError,
  NotFoundError,
  UnavailableError,
  UnsupportedMediaTypeError,
} from '../model/errors.js';
import { JournalWriteError } from '../jobs/journal.js';

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

export function errorHandler(): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const bp = err as BodyParserError;
    let status = 500;
    let body: { error: string; details?: unknown[] } = { error: 'internal error' };
    if (err instanceof InputError) {
      status = 400;
      body = { error: err.message, ...(err.details ? { details: err.details } : {}) };
    } else if (err instanceof UnsupportedMediaTypeError) {
      status = 415;
      body = { error: err.message };
    } else if (err instanceof MethodNotAllowedError) {
      status = 405;
      body = { error: err.message };
    } else if (err instanceof NotFoundError) {
      status = 404;
      body = { error: err.message };
    } else if (err instanceof ConflictError) {
      status = 409;
      body = { error: err.message };
    } else if (err instanceof UnavailableError || err instanceof JournalWriteError) {
      status = 503;
      body = { error: `${err.message}; nothing was recorded, retry` };
    } else if (bp.type === 'entity.too.large') {
      status = 413;
      body = { error: `request body is larger than the limit of ${bp.limit ?? 0} bytes` };
    } else if (bp.type === 'entity.parse.failed') {
      status = 400;
      const proto = /__proto__/.test((err as Error).message);
      body = {
        error: proto ? 'keys named __proto__ are not accepted' : 'request body is not valid JSON',
      };
    } else if (bp.type === 'encoding.unsupported' || bp.type === 'charset.unsupported') {
      status = 415;
      body = { error: 'unsupported content encoding or charset: send UTF-8 JSON' };
    } else if (bp.type === 'request.aborted') {
      status = 400;
      body = { error: 'request aborted' };
    } else if (typeof bp.status === 'number' && bp.status >= 400 && bp.status < 500) {
      status = bp.status;
      body = { error: (err as Error).message };
    }
    if (status >= 500) {
      const log = (res.locals['log'] as typeof req.log | undefined) ?? undefined;
      log?.error({ err }, 'request failed');
    }
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    log?: Logger;
  }
}
