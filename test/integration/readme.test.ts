// The README is all a user has (their clone has nothing beside the repository): it points at
// nothing outside it, and names every environment variable the code reads, every metric it
// exports and every decision it answers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DECISION_KINDS } from '../../src/model/decision.js';
import { createMetrics } from '../../src/observability/metrics.js';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('the README and the chart docs point at nothing outside the repository', () => {
  const docs = [
    'README.md',
    'rollback-scripts/README.md',
    'charts/rollback-controller/values.yaml',
  ];
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8');
    assert.doesNotMatch(text, /\.\.\/shared|SPEC\.md|DESIGN\.md/, doc);
    // Relative links resolve inside the clone.
    for (const [, target] of text.matchAll(/\]\((?!https?:|#)([^)\s]+)\)/g))
      assert.ok(
        statSync(join(root, String(target)), { throwIfNoEntry: false }),
        `${doc} → ${target}`,
      );
  }
});

test('every environment variable the code reads is in the README', () => {
  const names = new Set<string>();
  for (const file of sources(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const [, name] of text.matchAll(/env\[['"]([A-Z][A-Z0-9_]+)['"]\]/g))
      names.add(String(name));
    for (const [, name] of text.matchAll(/readSecret\(['"]([A-Z][A-Z0-9_]+)['"]/g)) {
      names.add(String(name));
      names.add(`${name}_FILE`);
    }
  }
  assert.ok(names.size >= 15, [...names].join(' '));
  // `X` / `_FILE` in the table stands for X_FILE.
  const missing = [...names].filter(
    (n) => !readme.includes(n) && !(n.endsWith('_FILE') && readme.includes(n.slice(0, -5))),
  );
  assert.deepEqual(missing, []);
});

test('every metric and every decision is in the README', async () => {
  const metrics = await createMetrics().registry.getMetricsAsJSON();
  const exported = metrics.map((m) => m.name).filter((n) => n.startsWith('rollback_'));
  assert.ok(exported.length >= 14);
  assert.deepEqual(
    exported.filter((n) => !readme.includes(`\`${n}\``)),
    [],
  );
  assert.deepEqual(
    DECISION_KINDS.filter((d) => !readme.includes(`| \`${d}\` |`)),
    [],
    'each decision has a row with its meaning',
  );
});
