// The layout's rules, checked on the source: arrows point inward (decide/ and model/ import no
// outer layer and no node: module), only kube/ imports the Kubernetes client library, a job's state is
// written only by the transitions module, and no file grows past about 400 lines.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const sources = files(SRC).map((path) => ({
  file: relative(SRC, path),
  text: readFileSync(path, 'utf8'),
}));

/** Every module specifier a file imports, resolved to a path under src/ when relative. */
function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map(
    (m) => m[1] ?? '',
  );
  return specs.map((s) => (s.startsWith('.') ? relative(SRC, resolve(SRC, file, '..', s)) : s));
}

function violations(folder: string, forbidden: RegExp): string[] {
  return sources
    .filter((s) => s.file.startsWith(`${folder}/`))
    .flatMap((s) =>
      importsOf(s.file, s.text)
        .filter((i) => forbidden.test(i))
        .map((i) => `${s.file} → ${i}`),
    );
}

describe('layers', () => {
  test('decide/ imports no jobs/, executors/, http/, ha/, notify/ and no node: module', () => {
    assert.deepEqual(violations('decide', /^(jobs|executors|http|ha|notify)\/|^node:/), []);
  });

  test('model/ imports nothing but model/ and config/ types', () => {
    assert.deepEqual(violations('model', /^(?!model\/|config\/)/), []);
  });

  test('ha/ imports nothing from executors/kubernetes/; kube/ nothing from executors/ or ha/', () => {
    assert.deepEqual(violations('ha', /^executors\/kubernetes\//), []);
    assert.deepEqual(violations('kube', /^(executors|ha|jobs)\//), []);
  });

  test('only kube/ imports @kubernetes/client-node (one Kubernetes room)', () => {
    const outside = sources
      .filter((s) => !s.file.startsWith('kube/'))
      .flatMap((s) =>
        importsOf(s.file, s.text)
          .filter((i) => i.startsWith('@kubernetes/client-node'))
          .map((i) => `${s.file} → ${i}`),
      );
    assert.deepEqual(outside, []);
  });

  test('jobs/ imports no executors/, http/, ha/ or notify/', () => {
    assert.deepEqual(violations('jobs', /^(executors|http|ha|notify)\//), []);
  });

  test("only jobs/job-transitions.ts writes a job's state", () => {
    const spreadThenState = /\.\.\.\s*\w+,\s*state\s*[:,]/;
    const literalState =
      /\bstate:\s*['"](awaiting_approval|queued|running|succeeded|failed|skipped|expired)['"]/;
    const writers = sources
      .filter((s) => spreadThenState.test(s.text) || literalState.test(s.text))
      .map((s) => s.file);
    assert.deepEqual(writers, ['jobs/job-transitions.ts']);
  });

  test('no source file is much over 400 lines', () => {
    const long = sources
      .map((s) => ({ file: s.file, lines: s.text.split('\n').length }))
      .filter((s) => s.lines > 420);
    assert.deepEqual(long, []);
  });
});
