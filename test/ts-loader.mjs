// The TypeScript loader of the test runs (node --import ./test/ts-loader.mjs): in-thread module
// hooks (module.registerHooks) that compile the project's .ts files with Node's own TypeScript
// transform, cached on disk by content. tsx's hooks run on a separate thread that every import
// of every file (dependencies too) crosses: each test file's start cost about 0.6 s more CPU.
// A `.js` import of the project's own code names its `.ts` source (nodenext's convention).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cache = fileURLToPath(new URL('../node_modules/.cache/rc-ts/', import.meta.url));
mkdirSync(cache, { recursive: true });

/** Runs `f` without Node's "stripTypeScriptTypes is an experimental feature" warning. */
function quietly(f) {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return f();
  } finally {
    process.emitWarning = emitWarning;
  }
}

function compile(url) {
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const key = createHash('sha256').update(url).update('\0').update(source).digest('hex');
  const cached = join(cache, `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    const code = quietly(() =>
      stripTypeScriptTypes(source, { mode: 'transform', sourceMap: true, sourceUrl: url }),
    );
    // Written then renamed: parallel test processes never read half a file.
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, cached);
    return code;
  }
}

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      const relative = specifier.startsWith('.') || specifier.startsWith('file:');
      if (!relative || !specifier.endsWith('.js') || error?.code !== 'ERR_MODULE_NOT_FOUND')
        throw error;
      return next(`${specifier.slice(0, -3)}.ts`, context);
    }
  },
  load(url, context, next) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
    return { format: 'module', source: compile(url), shortCircuit: true };
  },
});
