// The key replicas share without ever sending it: derived (HKDF) from the webhook and operator
// secrets every replica already reads from the same Secret. It signs what one replica tells
// another (a forwarded request, the leader's address and the controller state on the Lease), so
// whoever can only write the Lease or reach a pod's port cannot speak for a replica.
import { createHmac, hkdfSync } from 'node:crypto';
import { safeEqual } from './safe-equal.js';

export interface ReplicaKey {
  /** Hex HMAC-SHA256 over the fields, for one purpose (the key differs per purpose). */
  sign(purpose: string, fields: readonly string[]): string;
  verify(purpose: string, fields: readonly string[], signature: string): boolean;
}

/** Undefined without a webhook secret: then nothing is served and nothing can be signed. */
export function replicaKey(
  webhookSecret: string | undefined,
  operatorSecret: string | undefined,
): ReplicaKey | undefined {
  if (webhookSecret === undefined) return undefined;
  const material = `${webhookSecret}\u0000${operatorSecret ?? ''}`;
  const keys = new Map<string, Buffer>();
  const keyFor = (purpose: string): Buffer => {
    let k = keys.get(purpose);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', material, 'rollback-controller', purpose, 32));
      keys.set(purpose, k);
    }
    return k;
  };
  // Fields are length-prefixed so no two different lists sign the same bytes.
  const sign = (purpose: string, fields: readonly string[]) => {
    const mac = createHmac('sha256', keyFor(purpose));
    for (const f of fields) mac.update(`${Buffer.byteLength(f)}:${f};`);
    return mac.digest('hex');
  };
  return {
    sign,
    verify: (purpose, fields, signature) => safeEqual(sign(purpose, fields), signature),
  };
}
