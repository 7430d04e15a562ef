// Slack's request signing, as Slack documents it: `v0=` + HMAC-SHA256 over
// `v0:<X-Slack-Request-Timestamp>:<raw body>` with the app's signing secret. A timestamp more
// than 300 s off in either direction is refused (a captured request cannot be sent later, nor a
// forged one dated ahead), the comparison is constant-time, and a signature already accepted is
// refused while its timestamp is still inside the window (a replay within the 300 s).
// https://docs.slack.dev/authentication/verifying-requests-from-slack
import { createHmac } from 'node:crypto';
import { safeEqual } from '../http/safe-equal.js';

export const MAX_SKEW_SECONDS = 300;
/** Signatures remembered for replay refusal; beyond it the oldest are forgotten early. */
const MAX_REMEMBERED = 10_000;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export class SlackSignatureVerifier {
  /** Accepted signatures → their timestamp (seconds), oldest first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly signingSecret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `remember: false` checks without keeping the signature (a follower that forwards the click:
   * the leader keeps it, so a replay is caught whichever replica it reaches).
   */
  check(
    headers: { timestamp?: string | undefined; signature?: string | undefined },
    rawBody: Buffer,
    o: { remember?: boolean } = {},
  ): SignatureCheck {
    const { timestamp, signature } = headers;
    if (!timestamp || !signature)
      return { ok: false, reason: 'X-Slack-Request-Timestamp and X-Slack-Signature are required' };
    if (!/^\d{1,12}$/.test(timestamp))
      return { ok: false, reason: 'X-Slack-Request-Timestamp is not a Unix time' };
    const nowSeconds = Math.floor(this.now() / 1000);
    if (Math.abs(nowSeconds - Number(timestamp)) > MAX_SKEW_SECONDS)
      return {
        ok: false,
        reason: `the request is more than ${MAX_SKEW_SECONDS} s from this server's clock`,
      };
    const expected =
      'v0=' +
      createHmac('sha256', this.signingSecret)
        .update(`v0:${timestamp}:`)
        .update(rawBody)
        .digest('hex');
    if (!safeEqual(signature, expected))
      return { ok: false, reason: 'the signature does not match' };
    if (o.remember === false) return { ok: true };
    this.forgetOld(nowSeconds);
    if (this.seen.has(signature)) return { ok: false, reason: 'this request was already received' };
    this.seen.set(signature, Number(timestamp));
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
    return { ok: true };
  }

  private forgetOld(nowSeconds: number): void {
    for (const [sig, ts] of this.seen) {
      if (Math.abs(nowSeconds - ts) <= MAX_SKEW_SECONDS) continue;
      this.seen.delete(sig);
    }
  }
}
