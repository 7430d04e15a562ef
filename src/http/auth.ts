// Authentication for every protected route: HTTP Basic (RFC 7617), `Bearer <secret>`
// (Alertmanager's http_config.authorization), the documented raw `Basic <secret>` form, and on
// a leader the signed header a follower forwards with (forward-signature.ts).
//
// Basic is parsed here rather than through passport-http: that package has had no release since
// 2015, and all it did was split `user:password`, which this file needs anyway for the raw form.
//
// Two credentials: Alertmanager's (the webhook secret) and a human operator's. Approve and resume
// make rollbacks happen, so they take the operator's only; pause is the safe direction and takes
// either.
import type { Request, RequestHandler, Response } from 'express';
import {
  createForwardVerifier,
  FORWARD_SIGNATURE_HEADER,
  sha256Hex,
  type ForwardAddressee,
} from './forward-signature.js';
import { replicaKey, type ReplicaKey } from './replica-key.js';
import { equalsSecret } from './safe-equal.js';

export interface Credentials {
  webhookUser: string;
  webhookSecret: string | undefined;
  operatorUser: string | undefined;
  operatorSecret: string | undefined;
}

export interface Principal {
  /** `slack`: a click Slack signed (the Slack route's own check, or a replica's relay of it). */
  role: 'webhook' | 'operator' | 'slack';
  user: string;
  /** The replica that authenticated the caller and forwarded the request. */
  forwardedBy?: string;
  /** Digest of the body the forwarding replica signed (checked by the body parsers). */
  bodySha256?: string;
}

export const DEFAULT_OPERATOR_USER = 'operator';
const CHALLENGE = 'Basic realm="rollback-controller", Bearer realm="rollback-controller"';
const MAX_HEADER = 4096;

export interface Auth {
  /**
   * The check a route declares (route-table.ts): `any` takes Alertmanager's or an operator's
   * credentials (or a verified forward), `operator` an operator's only, 503 while none are
   * configured. The caller is identified once per request (a forward header verified once) and
   * the principal is reused by anything that checks it later.
   */
  authenticate(credential: 'any' | 'operator' | 'slack'): RequestHandler;
  /** The key replicas sign with; undefined without a webhook secret. */
  key: ReplicaKey | undefined;
}

export function principalOf(res: Response): Principal | undefined {
  return res.locals['principal'] as Principal | undefined;
}

const EMPTY_SHA256 = sha256Hex('');

/**
 * The body parsers' `verify` hook: a forwarded body must be the one the follower signed. (A route
 * that parses no body ignores it, so nothing else needs the check.)
 */
export function checkForwardedBody(_req: Request, res: Response, buf: Buffer): void {
  const expected = principalOf(res)?.bodySha256;
  if (expected !== undefined && sha256Hex(buf) !== expected)
    throw new Error('the forwarded body is not the one the forwarding replica signed');
}

export function createAuth(
  creds: Credentials,
  o: {
    now?: () => number;
    /** This replica as a forward's addressee (leader election); none: no forward is accepted. */
    addressee?: () => ForwardAddressee | undefined;
  } = {},
): Auth {
  const operatorUser = creds.operatorUser ?? DEFAULT_OPERATOR_USER;
  const key = replicaKey(creds.webhookSecret, creds.operatorSecret);
  const addressee = o.addressee ?? (() => undefined);
  const verifyForward = key ? createForwardVerifier(key, addressee, o.now) : undefined;

  // The configured values' digests are computed once, not on every request.
  const webhookUserIs = equalsSecret(creds.webhookUser);
  const webhookSecretIs =
    creds.webhookSecret !== undefined ? equalsSecret(creds.webhookSecret) : undefined;
  const operatorUserIs = equalsSecret(operatorUser);
  const operatorSecretIs =
    creds.operatorSecret !== undefined ? equalsSecret(creds.operatorSecret) : undefined;
  // Both comparisons run every time, so timing does not reveal which credential matched.
  const verify = (user: string | undefined, pass: string): Principal | undefined => {
    const asWebhook =
      webhookSecretIs !== undefined &&
      webhookUserIs(user ?? creds.webhookUser) &&
      webhookSecretIs(pass);
    const asOperator =
      operatorSecretIs !== undefined &&
      operatorUserIs(user ?? operatorUser) &&
      operatorSecretIs(pass);
    if (asOperator) return { role: 'operator', user: operatorUser };
    if (asWebhook) return { role: 'webhook', user: creds.webhookUser };
    return undefined;
  };

  const deny = (res: Response, message: string) => {
    res.setHeader('WWW-Authenticate', CHALLENGE);
    res.status(401).json({ error: message });
  };

  /** The caller, or undefined after answering for it. */
  const identify: (...a: Parameters<RequestHandler>) => Principal | undefined = (req, res) => {
    if (creds.webhookSecret === undefined || !verifyForward) {
      res.status(503).json({
        error:
          'ROLLBACK_WEBHOOK_SECRET is not set: set it or ROLLBACK_WEBHOOK_SECRET_FILE to enable this route (the controller never runs unauthenticated)',
      });
      return undefined;
    }
    const forwarded = req.headers[FORWARD_SIGNATURE_HEADER];
    if (forwarded !== undefined) {
      const v = verifyForward(String(forwarded), { method: req.method, url: req.originalUrl });
      if (!v.ok) return void deny(res, v.reason);
      const c = v.claims;
      const bodyless =
        req.headers['transfer-encoding'] === undefined &&
        (req.headers['content-length'] ?? '0') === '0';
      if (bodyless && c.bodySha256 !== EMPTY_SHA256)
        return void deny(res, 'the forwarded body is not the one the forwarding replica signed');
      return { role: c.role, user: c.user, forwardedBy: c.by, bodySha256: c.bodySha256 };
    }
    const header = req.headers.authorization;
    if (!header) return void deny(res, 'authentication required: HTTP Basic or Bearer credentials');
    if (header.length > MAX_HEADER) return void deny(res, 'invalid credentials');
    const m = /^(Basic|Bearer) +(\S+)\s*$/i.exec(header);
    if (!m) return void deny(res, 'unsupported authorization scheme: use Basic or Bearer');
    const token = m[2] ?? '';
    let p: Principal | undefined;
    if (m[1]?.toLowerCase() === 'bearer') p = verify(undefined, token);
    else {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // Without a colon it is the compatibility form `Basic <secret>`: the token is the secret.
      p =
        colon < 0
          ? verify(undefined, token)
          : verify(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    return p ?? void deny(res, 'invalid credentials');
  };

  const authenticate =
    (credential: 'any' | 'operator' | 'slack'): RequestHandler =>
    (req, res, next) => {
      // Slack's signature is the Slack route's own check (its guard); only a replica's relay of
      // such a request is identified here, and it must say it relays a Slack request.
      if (credential === 'slack' && req.headers[FORWARD_SIGNATURE_HEADER] === undefined)
        return next();
      const p = principalOf(res) ?? identify(req, res, next);
      if (!p) return;
      if ((credential === 'slack') !== (p.role === 'slack'))
        return void deny(
          res,
          credential === 'slack'
            ? 'a forward to the Slack route must relay a Slack-signed request'
            : 'a relayed Slack request is for the Slack route only',
        );
      res.locals['principal'] = p;
      if (credential === 'any' || credential === 'slack') return next();
      if (creds.operatorSecret === undefined) {
        res.status(503).json({
          error:
            'approve and resume need operator credentials and none are configured: set ROLLBACK_OPERATOR_SECRET or ROLLBACK_OPERATOR_SECRET_FILE (user ROLLBACK_OPERATOR_USER, default "operator"); Alertmanager’s credentials can only pause',
        });
        return;
      }
      if (p.role !== 'operator') {
        res.setHeader('WWW-Authenticate', CHALLENGE);
        res.status(401).json({
          error: `operator credentials required (ROLLBACK_OPERATOR_USER "${operatorUser}" / ROLLBACK_OPERATOR_SECRET); Alertmanager’s credentials can only pause`,
        });
        return;
      }
      next();
    };
  return { authenticate, key };
}
