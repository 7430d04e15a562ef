// Operator routes change what the controller does, and a browser that holds an operator's Basic
// credentials would attach them to any site's request. So these routes take JSON only (a
// cross-site page cannot send `application/json` without a CORS preflight, which this server never
// answers), and refuse what the browser itself labels cross-site: `Sec-Fetch-Site` other than
// same-origin or none (typed or a non-browser client), or an `Origin` that is not this host.
import type { RequestHandler } from 'express';
import { UnsupportedMediaTypeError } from '../model/errors.js';

export function operatorRequestGuard(): RequestHandler {
  return (req, res, next) => {
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    let crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
    if (!crossSite && origin !== undefined) {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        // `Origin: null` (sandboxed frames, file: pages) and garbage are cross-site.
      }
      crossSite = host === undefined || host !== req.headers.host;
    }
    if (crossSite) {
      res.status(403).json({
        error:
          'cross-site browser requests are refused on operator routes: call the API from curl, a script or the same origin',
      });
      return;
    }
    const bodyless =
      req.headers['transfer-encoding'] === undefined &&
      (req.headers['content-length'] ?? '0') === '0';
    if (!bodyless || req.headers['content-type'] !== undefined) {
      if (!req.is('application/json'))
        return next(
          new UnsupportedMediaTypeError(
            'operator routes take application/json (or no body): set Content-Type: application/json',
          ),
        );
    }
    next();
  };
}
