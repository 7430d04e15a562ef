#!/usr/bin/env node
// Runs node's built-in test runner over every *.test.ts below the given folders (default: test/
// without the reliability, real-cluster and real-node suites, which have their own npm scripts).
// The list is built here, not with `--test` globs, so that a default run can leave those out.
// With --checks (npm test), the typecheck, eslint and prettier run beside the tests; each one's
// output is printed when it ends, and the run fails if any of them fails.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import './ts-loader.mjs';

const args = process.argv.slice(2);
const checks = args.includes('--checks');
const roots = args.filter((a) => !a.startsWith('-'));
const passthrough = args.filter((a) => a.startsWith('-') && a !== '--checks');
const excluded = roots.length ? [] : ['test/reliability', 'test/cluster', 'test/node'];
const files = [];
function walk(dir) {
  if (excluded.includes(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
}
for (const root of roots.length ? roots : ['test']) {
  if (statSync(root).isFile()) files.push(root);
  else walk(root);
}
if (files.length === 0) {
  console.error('no test files found under', roots.join(' ') || 'test');
  process.exit(1);
}

/** Runs a command to its end; resolves with its exit code and output. */
function run(cmd, argv, o = {}) {
  return new Promise((done) => {
    const child = spawn(cmd, argv, { stdio: o.inherit ? 'inherit' : 'pipe', env: o.env });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const bin = (name) => realpathSync(resolve('node_modules/.bin', name));
const checkRuns = checks
  ? [
      ['typecheck', [bin('tsc'), '-p', 'tsconfig.json', '--noEmit']],
      ['eslint', [bin('eslint'), '.']],
      ['prettier', [bin('prettier'), '--check', '.']],
    ].map(async ([name, argv]) => {
      const started = Date.now();
      const r = await run(process.execPath, argv);
      const took = ((Date.now() - started) / 1000).toFixed(1);
      if (r.code === 0) console.log(`# ${name}: ok (${took} s)`);
      else console.log(`# ${name}: FAILED (exit ${r.code})\n${r.output}`);
      return r.code;
    })
  : [];

// The controller's entry points compiled once for every file that starts controller processes.
mkdirSync(resolve('node_modules/.cache'), { recursive: true });
const compiled = mkdtempSync(join(resolve('node_modules/.cache'), 'rc-entry-run-'));
process.on('exit', () => rmSync(compiled, { recursive: true, force: true }));
const { compileEntry } = await import('./support/compiled-entry.ts');
for (const entry of ['main', 'cli']) compileEntry(compiled, entry);

const tests = run(
  process.execPath,
  [
    '--import',
    join(import.meta.dirname, 'ts-loader.mjs'),
    '--enable-source-maps',
    '--test',
    // Most files spend most of their time waiting on the processes they start (controllers,
    // Prometheus, Alertmanager) and on their timers: four at once keep two cores busy.
    '--test-concurrency=4',
    // A hang guard, not a speed limit: a whole file (the runner times each file too) may take
    // minutes on a machine whose cores are busy with other work.
    '--test-timeout=300000',
    ...passthrough,
    ...files,
  ],
  {
    inherit: true,
    env: { ...process.env, NODE_ENV: 'test', RC_TEST_COMPILED_DIR: compiled },
  },
);
const codes = [(await tests).code, ...(await Promise.all(checkRuns))];
process.exit(codes.find((c) => c !== 0) ?? 0);
