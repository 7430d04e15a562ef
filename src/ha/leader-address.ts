// Whether a follower may send requests to the leader address on the Lease. Anyone who may write
// Leases in the namespace can put any holder and URL there, so the follower checks both:
// - the pair carries a signature made with the replica key (only replicas hold the secrets), so
//   nobody else can name a new address;
// - the URL is the address of the holder's own pod, as the API server reports it, so an old signed
//   pair cannot be replayed once that pod is gone and its IP belongs to someone else.
// The signed value also carries the holder's process epoch (`<epoch>.<mac>`): forwards are signed
// for that one process (forward-signature.ts), so a restarted leader refuses what its previous
// process was sent.
import { KubeNotFoundError } from '../kube/kube-errors.js';
import type { PodAddress } from '../kube/kube-types.js';
import type { ReplicaKey } from '../http/replica-key.js';

const PURPOSE = 'leader v2';
const EPOCH = /^[0-9a-f]{32}$/;

/** The Lease's leader-signature value: this process's epoch and the MAC over holder, URL, epoch. */
export function signLeaderAddress(
  key: ReplicaKey,
  holder: string,
  url: string,
  epoch: string,
): string {
  return `${epoch}.${key.sign(PURPOSE, [holder, url, epoch])}`;
}

export type { PodAddress };

export type LeaderCheck = { ok: true; epoch: string } | { ok: false; reason: string };

export async function checkLeaderAddress(o: {
  holder: string;
  url: string;
  signature: string | undefined;
  key: ReplicaKey | undefined;
  namespace: string;
  readPod: (namespace: string, name: string) => Promise<PodAddress>;
}): Promise<LeaderCheck> {
  const refuse = (why: string): LeaderCheck => ({
    ok: false,
    reason: `the leader address on the Lease (${o.holder} at ${o.url.slice(0, 100)}) ${why}`,
  });
  if (!o.key) return refuse('cannot be checked: this replica has no webhook secret');
  const [epoch = '', mac = '', extra] = (o.signature ?? '').split('.');
  if (
    extra !== undefined ||
    !EPOCH.test(epoch) ||
    !o.key.verify(PURPOSE, [o.holder, o.url, epoch], mac)
  )
    return refuse('is not signed with the replicas’ key: someone else wrote the Lease?');
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return refuse('is not a URL');
  }
  if (url.protocol !== 'http:' || url.pathname !== '/' || url.search || url.username)
    return refuse('is not an http:// origin');
  let pod: PodAddress;
  try {
    pod = await o.readPod(o.namespace, o.holder);
  } catch (err) {
    if (err instanceof KubeNotFoundError) return refuse(`names no pod in ${o.namespace}`);
    return refuse(`could not be checked against its pod: ${(err as Error).message}`);
  }
  if (pod.deleting) return refuse('names a pod that is being deleted');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!pod.ips.includes(host))
    return refuse(`is not its pod's address (${pod.ips.join(', ') || 'no IP yet'})`);
  return { ok: true, epoch };
}
