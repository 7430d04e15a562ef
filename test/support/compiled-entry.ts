// The controller's entry points (src/main.ts, src/cli.ts) as compiled JavaScript, for the tests
// that start controller processes: one esbuild bundle of the project's code each, dependencies
// left as imports resolved from the repository's node_modules. A process started from it skips
// tsx's loader (about 0.4 s of CPU per start), and runs code compiled as the image compiles it.
// test/run.mjs builds them once per run (RC_TEST_COMPILED_DIR); a file run on its own builds
// its own copy, removed when it exits.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

export type Entry = 'main' | 'cli';

let own: string | undefined;

function ownDir(): string {
  if (own) return own;
  const cache = resolve(import.meta.dirname, '../../node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'rc-entry-'));
  own = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `<dir>/<entry>.mjs` from `src/<entry>.ts`. */
export function compileEntry(dir: string, entry: Entry): string {
  const outfile = join(dir, `${entry}.mjs`);
  buildSync({
    entryPoints: [resolve(import.meta.dirname, `../../src/${entry}.ts`)],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'error',
  });
  return outfile;
}

/** Path of the compiled entry point, to run as `node <path>`. */
export function compiledEntry(entry: Entry): string {
  const shared = process.env['RC_TEST_COMPILED_DIR'];
  if (shared && existsSync(join(shared, `${entry}.mjs`))) return join(shared, `${entry}.mjs`);
  const dir = ownDir();
  const path = join(dir, `${entry}.mjs`);
  return existsSync(path) ? path : compileEntry(dir, entry);
}
