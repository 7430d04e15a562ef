// The README is all a user has (their clone has nothing beside the repository): it reads in ten
// minutes (about 250 lines) and links the rest; no link leads nowhere and nothing points outside
// the repository; with the documents it links it names every environment variable the code
// reads, every metric it exports and every decision it answers; code comments cite the in-repo
// contract, never a spec document the repository does not contain.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { DECISION_KINDS } from '../../src/model/decision.js';
import { createMetrics } from '../../src/observability/metrics.js';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function sources(dir: string, ext = '.ts'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path, ext) : path.endsWith(ext) ? [path] : [];
  });
}

/** A Markdown document's relative links: [text](target) with the #anchor split off. */
function links(text: string): Array<{ path: string; anchor?: string }> {
  return [...text.matchAll(/\]\((?!https?:|mailto:)([^)\s]+)\)/g)].map(([, target]) => {
    const [path = '', anchor] = String(target).split('#');
    return anchor === undefined ? { path } : { path, anchor };
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** README.md and every Markdown document it links, transitively (repository-relative paths). */
function linkedDocs(): string[] {
  const seen = new Set<string>(['README.md']);
  const todo = ['README.md'];
  for (let doc = todo.pop(); doc !== undefined; doc = todo.pop()) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const { path } of links(text)) {
      if (!path.endsWith('.md')) continue;
      const target = relative(root, resolve(root, dirname(doc), path));
      if (!seen.has(target) && statSync(join(root, target), { throwIfNoEntry: false })) {
        seen.add(target);
        todo.push(target);
      }
    }
  }
  return [...seen];
}
const docs = linkedDocs();
const documented = docs.map((d) => readFileSync(join(root, d), 'utf8')).join('\n');

test('the README reads in ten minutes: about 250 lines, the rest linked', () => {
  const lines = readme.split('\n').length;
  assert.ok(lines <= 250, `README.md has ${lines} lines; move detail into a linked document`);
  for (const doc of [
    'charts/rollback-controller/docs/configuration.md',
    'charts/rollback-controller/docs/http-api.md',
    'charts/rollback-controller/docs/operations.md',
    'charts/rollback-controller/docs/high-availability.md',
    'charts/rollback-controller/docs/contract.md',
    'test/docs/real-cluster.md',
    'test/docs/performance.md',
  ])
    assert.ok(docs.includes(doc), `the README links ${doc}`);
});

test('no link in the README or a document it links leads nowhere', () => {
  const broken: string[] = [];
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const { path, anchor } of links(text)) {
      const target = path ? resolve(root, dirname(doc), path) : join(root, doc);
      if (!target.startsWith(root) || !statSync(target, { throwIfNoEntry: false })) {
        broken.push(`${doc} → ${path}`);
        continue;
      }
      if (anchor === undefined || !target.endsWith('.md')) continue;
      const headings = [...readFileSync(target, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
        slug(String(m[1])),
      );
      if (!headings.includes(anchor)) broken.push(`${doc} → ${path}#${anchor}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('code comments cite the in-repo contract, and every section they cite exists', () => {
  const contract = readFileSync(join(root, 'charts/rollback-controller/docs/contract.md'), 'utf8');
  const sections = new Set(
    [...contract.matchAll(/^#{1,6} (.+)$/gm)].map((m) => String(m[1]).replace(/`/g, '')),
  );
  const stale: string[] = [];
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'test'))]) {
    const text = readFileSync(file, 'utf8');
    // A citation of a spec outside the repository (identifiers such as SPEC_RULES are names).
    for (const line of text.split('\n'))
      if (/(\/\/|\*).*\bSPEC\b(?!_)/.test(line))
        stale.push(`${relative(root, file)}: ${line.trim()}`);
    for (const [, cited] of text.matchAll(/contract\.md,? "([^"]+)"/g)) {
      // A citation may wrap over comment lines and name a section by its first words.
      const section = String(cited).replace(/\s*\n\s*(\/\/|\*)?\s*/g, ' ');
      if (![...sections].some((h) => h === section || h.startsWith(`${section} (`)))
        stale.push(`${relative(root, file)}: no section "${section}"`);
    }
  }
  assert.deepEqual(stale, []);
});

test('the README, the documents it links and the chart point at nothing outside the repository', () => {
  for (const doc of [
    ...docs,
    'rollback-scripts/README.md',
    'charts/rollback-controller/values.yaml',
  ]) {
    const text = readFileSync(join(root, doc), 'utf8');
    assert.doesNotMatch(text, /\.\.\/shared|SPEC\.md|DESIGN\.md/, doc);
  }
});

test('every environment variable the code reads is documented', () => {
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
    (n) => !documented.includes(n) && !(n.endsWith('_FILE') && documented.includes(n.slice(0, -5))),
  );
  assert.deepEqual(missing, []);
});

test('every metric and every decision is documented', async () => {
  const metrics = await createMetrics().registry.getMetricsAsJSON();
  const exported = metrics.map((m) => m.name).filter((n) => n.startsWith('rollback_'));
  assert.ok(exported.length >= 14);
  assert.deepEqual(
    exported.filter((n) => !documented.includes(`\`${n}\``)),
    [],
  );
  assert.deepEqual(
    [...DECISION_KINDS, 'executor_unavailable', 'forbidden'].filter(
      (d) => !documented.includes(`| \`${d}\` |`),
    ),
    [],
    'each decision has a row with its meaning',
  );
});
