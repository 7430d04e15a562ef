// Constant-time string comparison. Hashing first makes the time independent of both the length
// and of how many leading characters match.
import { createHash, timingSafeEqual } from 'node:crypto';

export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/**
 * `safeEqual(given, expected)` with the expected value's digest computed once (a configured
 * secret is compared on every request).
 */
export function equalsSecret(expected: string): (given: string) => boolean {
  const digest = createHash('sha256').update(expected, 'utf8').digest();
  return (given) => timingSafeEqual(createHash('sha256').update(given, 'utf8').digest(), digest);
}
