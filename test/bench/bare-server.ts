// The floor to compare the webhook with: a bare node:http server in its own process that reads
// the body and answers 202, so the ratio shows what auth, parsing, deciding and the fsync'd
// journal cost on this machine.
import { spawn } from 'node:child_process';
import { freePort } from '../demo/free-port.js';
import { waitReady } from './controller-process.js';

const SOURCE = `
import { createServer } from 'node:http';
createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    if (req.url === '/readyz') { res.writeHead(200); res.end('ok'); return; }
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end('{"decisions":[]}');
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

export async function startBareServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', SOURCE], {
    env: { PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, 10_000);
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
