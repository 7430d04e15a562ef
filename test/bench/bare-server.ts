// The floors to compare the webhook with: a bare node:http server in its own process that reads
// the body and answers 202, so the ratios show what auth, parsing, deciding and the journal cost
// on this machine. Three flavours:
// - `plain`: answers without writing anything;
// - `durable`: appends each body to a file and answers once it is on disk, with group commit (the
//   bodies that arrive during one write + fdatasync go out in the next one), as the controller's
//   journal does: the fair floor for a webhook that promises "202 once durably recorded";
// - `no-fsync`: the same appends without the fdatasync (the page cache only).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../demo/free-port.js';
import { waitReady } from './controller-process.js';

export type BareMode = 'plain' | 'durable' | 'no-fsync';

const SOURCE = `
import { createServer } from 'node:http';
import { open } from 'node:fs/promises';
const mode = process.env.MODE;
const file = mode === 'plain' ? undefined : await open(process.env.FILE, 'a');
let pending = [];
let flushing = false;
async function flush() {
  if (flushing || pending.length === 0) return;
  flushing = true;
  const batch = pending;
  pending = [];
  await file.write(Buffer.concat(batch.map((b) => b.line)));
  if (mode === 'durable') await file.datasync();
  for (const b of batch) b.done();
  flushing = false;
  void flush();
}
const answer = (res) => {
  res.writeHead(202, { 'content-type': 'application/json' });
  res.end('{"decisions":[]}');
};
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/readyz') { res.writeHead(200); res.end('ok'); return; }
    if (!file) return answer(res);
    pending.push({ line: Buffer.concat([...chunks, Buffer.from('\\n')]), done: () => answer(res) });
    void flush();
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

export async function startBareServer(
  mode: BareMode = 'plain',
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rc-bare-'));
  const child = spawn(process.execPath, ['--input-type=module', '-e', SOURCE], {
    env: { PORT: String(port), MODE: mode, FILE: join(dir, 'bodies.jsonl') },
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
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
