// A port that was free a moment ago on 127.0.0.1, for servers whose address must be known before
// they start (the controller's external URL, Alertmanager's listen address).
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}
