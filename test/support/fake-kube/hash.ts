// Short, stable, name-safe hashes for pod templates and revisions (the `pod-template-hash` and
// `controller-revision-hash` label values and the `<name>-<hash>` object names).
import { sortKeys } from './json.js';

const alphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function shortHash(value: unknown, collisionCount = 0): string {
  const text = JSON.stringify(sortKeys(value)) + (collisionCount ? `#${collisionCount}` : '');
  // FNV-1a, 32 bit.
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  let out = '';
  do {
    out += alphabet[hash % alphabet.length];
    hash = Math.floor(hash / alphabet.length);
  } while (hash > 0);
  return out;
}
