// `rollback-controller check-config FILE` and the server refusing an invalid config, with the
// same messages, run as real processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { compiledEntry } from '../support/compiled-entry.js';

const dir = mkdtempSync(join(tmpdir(), 'rc-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HANG_GUARD_MS = 120_000;

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function cli(args: string[], env: Record<string, string> = {}) {
  // Only what the test sets: an operator's shell may not have SLACK_CHANNEL and friends.
  const inherited = { ...process.env };
  delete inherited['SLACK_CHANNEL'];
  return spawnSync(process.execPath, [compiledEntry('cli'), ...args], {
    encoding: 'utf8',
    env: { ...inherited, ...env },
    // A hang guard only (the suite's per-test timeout): a cold start on a loaded machine
    // takes tens of seconds, and nothing here measures speed.
    timeout: HANG_GUARD_MS,
  });
}

const BAD = `rules:
  - alert: CriticalErrorRate
    trigger: Not-Snake
    confidence: certain
  - alert: Other
    trigger: ok
    confidence: high
    matchers: ['severity']
  - alert: Third
    trigger: Also-Bad
    confidence: high
    matchers: ['env=~"(unclosed"']
    script: { path: ../../etc/evil.sh }
policy:
  circuitBreaker: { maxRollbacks: 0 }
  maxRevisionAgeSeconds: -1
`;

describe('check-config', () => {
  test("the README's complete example passes as it is, with no environment to set", () => {
    const r = cli(['check-config', resolve('test/fixtures/config/full.yaml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    assert.match(r.stdout, /rules/);
  });

  test('an invalid file lists every problem by path in one pass and exits 1', () => {
    const r = cli(['check-config', file('bad.yaml', BAD)]);
    assert.equal(r.status, 1);
    // Schema, matcher-syntax and script-path problems together, even in a rule that also
    // fails the schema: fixing one kind never reveals another.
    const paths = [
      'rules.0.trigger',
      'rules.0.confidence',
      'rules.1.matchers.0',
      'rules.2.trigger',
      'rules.2.matchers.0',
      'rules.2.script.path',
      'policy.circuitBreaker.maxRollbacks',
      'policy.maxRevisionAgeSeconds',
    ];
    for (const path of paths)
      assert.match(r.stdout, new RegExp(`^  ${path.replace(/\./g, '\\.')}: `, 'm'), r.stdout);
    assert.match(r.stdout, new RegExp(`FAILED: ${paths.length} problem\\(s\\)`));
  });

  test('a missing ${ENV} reference is a problem', () => {
    const r = cli(['check-config', file('env.yaml', 'slack:\n  channel: ${NOT_SET_ANYWHERE}\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /slack\.channel: environment variable NOT_SET_ANYWHERE is not set/);
  });

  test('namespace globs no namespace can match fail (a deny list that never denies fails open)', () => {
    const r = cli([
      'check-config',
      file(
        'globs.yaml',
        [
          'policy:',
          "  deniedNamespaces: ['Kube-System', 'prod ', '-tmp', 'kube-*']",
          "  allowedNamespaces: ['team-*', 'shop_2']",
        ].join('\n'),
      ),
    ]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stdout,
      /^ {2}policy\.deniedNamespaces\.0: "Kube-System" can never match.*lower case/m,
    );
    assert.match(r.stdout, /^ {2}policy\.deniedNamespaces\.1: "prod " can never match/m);
    assert.match(r.stdout, /^ {2}policy\.deniedNamespaces\.2: "-tmp" can never match/m);
    assert.match(r.stdout, /^ {2}policy\.allowedNamespaces\.1: "shop_2" can never match/m);
    assert.doesNotMatch(r.stdout, /deniedNamespaces\.3|allowedNamespaces\.0/);
  });

  test('a matcher regex with nested quantifiers passes with a warning that names it', () => {
    const r = cli([
      'check-config',
      file(
        'nested.yaml',
        [
          'rules:',
          '  - alert: CriticalErrorRate',
          '    trigger: error_rate_threshold',
          '    confidence: high',
          '    matchers: [\'severity="critical"\', \'service=~"(a+)+b"\']',
        ].join('\n'),
      ),
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    assert.match(
      r.stdout,
      /^Warnings:\n {2}rules\.0\.matchers\.1: nested quantifier in "\(a\+\)\+b"/m,
    );
  });

  test('an unreadable file and a missing argument are errors', () => {
    assert.equal(cli(['check-config', join(dir, 'missing.yaml')]).status, 1);
    assert.equal(cli(['check-config']).status, 2);
  });

  test('the server refuses to start on an invalid config, with the same messages', () => {
    const r = spawnSync(process.execPath, [compiledEntry('main')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        ROLLBACK_CONFIG: join(dir, 'bad.yaml'),
        PORT: '0',
        ROLLBACK_DATA_DIR: join(dir, 'data'),
      },
      timeout: HANG_GUARD_MS,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot start: invalid config/);
    assert.match(r.stderr, /rules\.0\.confidence: /);
    assert.match(r.stderr, /policy\.circuitBreaker\.maxRollbacks: /);
  });
});
