// The internal header a follower puts on a forwarded request instead of the caller's
// credentials: who the follower authenticated (role and user), what it forwards (method, path
// with query, body digest), when, which replica it is, and which leader it is for, signed with
// the replica key. The leader accepts it within a short window and only once, so a captured
// header can neither be replayed nor moved to another request.
//
// "Only once" holds across replicas and restarts: a signature names the leader it was made for
// (its identity) and that leader's process epoch (a random value each process draws at start and
// publishes, signed, with its address on the Lease). Only that one process accepts it, and it
// remembers what it accepted for longer than the window; another replica, or the same pod
// restarted (a new epoch), refuses it. So the per-process record is the whole record.
import { createHash } from 'node:crypto';
import type { ReplicaKey } from './replica-key.js';

export const FORWARD_SIGNATURE_HEADER = 'x-rollback-forward-signature';
/** Clocks of two pods in one cluster agree far better than this; a replay must be quicker. */
export const FORWARD_WINDOW_MS = 30_000;
const PURPOSE = 'forward v2';

/** Who may accept a forward: this replica's identity and its process epoch. */
export interface ForwardAddressee {
  identity: string;
  epoch: string;
}

export interface ForwardClaims {
  method: string;
  /** Path and query exactly as sent on the request line. */
  path: string;
  bodySha256: string;
  at: number;
  by: string;
  /** `slack`: a request Slack signed, verified by the follower (the Slack route only). */
  role: 'webhook' | 'operator' | 'slack';
  user: string;
  /** The leader it is for, and that leader's process epoch. */
  to: string;
  epoch: string;
}

export const sha256Hex = (b: Buffer | string): string =>
  createHash('sha256').update(b).digest('hex');

const fields = (c: ForwardClaims) => [
  c.method,
  c.path,
  c.bodySha256,
  String(c.at),
  c.by,
  c.role,
  c.user,
  c.to,
  c.epoch,
];

export function signForward(key: ReplicaKey, c: ForwardClaims): string {
  const claims = Buffer.from(JSON.stringify(c)).toString('base64url');
  return `${claims}.${key.sign(PURPOSE, fields(c))}`;
}

export type ForwardVerdict = { ok: true; claims: ForwardClaims } | { ok: false; reason: string };

/**
 * Checks the header against the request it arrived on and against this replica (`self`: none
 * without leader election, and then no forward is accepted); `seen` remembers used signatures.
 */
export function createForwardVerifier(
  key: ReplicaKey,
  self: () => ForwardAddressee | undefined,
  now: () => number = Date.now,
) {
  const seen = new Map<string, number>();
  return (header: string, req: { method: string; url: string }): ForwardVerdict => {
    const [encoded, signature, extra] = header.split('.');
    if (!encoded || !signature || extra !== undefined || header.length > 4096)
      return { ok: false, reason: 'malformed forward signature' };
    let c: ForwardClaims;
    try {
      c = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as ForwardClaims;
    } catch {
      return { ok: false, reason: 'malformed forward signature' };
    }
    const wellFormed =
      typeof c === 'object' &&
      c !== null &&
      ['method', 'path', 'bodySha256', 'by', 'user', 'to', 'epoch'].every(
        (k) => typeof (c as unknown as Record<string, unknown>)[k] === 'string',
      ) &&
      Number.isFinite(c.at) &&
      (c.role === 'webhook' || c.role === 'operator' || c.role === 'slack');
    if (!wellFormed || !key.verify(PURPOSE, fields(c), signature))
      return { ok: false, reason: 'invalid forward signature' };
    if (c.method !== req.method || c.path !== req.url)
      return { ok: false, reason: 'the forward signature is for another request' };
    const me = self();
    if (!me)
      return {
        ok: false,
        reason: 'this replica runs without leader election: nothing is forwarded to it',
      };
    if (c.to !== me.identity || c.epoch !== me.epoch)
      return {
        ok: false,
        reason: 'the forward signature is for another replica (or an earlier process of this one)',
      };
    const t = now();
    if (Math.abs(t - c.at) > FORWARD_WINDOW_MS)
      return { ok: false, reason: 'the forward signature has expired (are the pods’ clocks set?)' };
    // Insertion order is time order: drop the expired head only.
    for (const [sig, at] of seen) {
      if (t - at <= 2 * FORWARD_WINDOW_MS) break;
      seen.delete(sig);
    }
    if (seen.has(signature)) return { ok: false, reason: 'the forward signature was already used' };
    seen.set(signature, t);
    return { ok: true, claims: c };
  };
}
