#!/usr/bin/env node
// Runs node's built-in test runner over every *.test.ts below the given folders (default: test/
// without the reliability, real-cluster and real-node suites, which have their own npm scripts).
// The list is built here, not with `--test` globs, so that a default run can leave those out.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
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
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    // A hang guard, not a speed limit: a whole file (the runner times each file too) may take
    // minutes on a machine whose cores are busy with other work.
    '--test-timeout=300000',
    ...passthrough,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
