// A port that was free a moment ago on 127.0.0.1, for servers whose address must be known before
// they start (etcd, the API server, the controller's external URL, Alertmanager's listen address).
// It is taken from 20000–29999, below the kernel's ephemeral range: a port the kernel hands out
// can be taken again, before the server binds it, as the local end of any outgoing connection on
// the machine (a busy CI run saw etcd fail with "address already in use"). Above Kubernetes' and
// Prometheus' fixed ports, below the NodePort range. Never the same port twice in one process.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 20_000;
const HIGHEST = 29_999;
const given = new Set<number>();

/** The first port of the kernel's ephemeral range (0 where it cannot be read). */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    return Number(low) || 0;
  } catch {
    return 0;
  }
}

/** Listens on `port` (0: the kernel's choice) and closes; the port, or undefined if taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((ok) => {
    const server = createServer();
    server.once('error', () => ok(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => ok(got));
    });
  });
}

export async function freePort(): Promise<number> {
  const high = Math.min(HIGHEST, ephemeralLow() - 1);
  // Where the ephemeral range starts low (other kernels), the kernel's choice is all there is.
  const own = high - LOWEST >= 1_000;
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = await tryPort(own ? LOWEST + Math.floor(Math.random() * (high - LOWEST + 1)) : 0);
    if (port !== undefined && !given.has(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('no free port on 127.0.0.1 after 500 tries');
}

/** True when a server died because its port was taken in the meantime (retry with another). */
export function portTaken(err: unknown): boolean {
  return /address already in use/i.test(String((err as Error)?.message ?? err));
}
