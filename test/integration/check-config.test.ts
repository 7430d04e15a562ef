// `rollback-controller check-config FILE` and the server refusing an invalid config, with the
// same messages, run as real processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'rc-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', resolve('src/cli.ts'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
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
policy:
  circuitBreaker: { maxRollbacks: 0 }
  maxRevisionAgeSeconds: -1
`;

describe('check-config', () => {
  test('a valid file passes with exit 0 and a summary', () => {
    const r = cli(['check-config', resolve('test/fixtures/config/full.yaml')], {
      SLACK_CHANNEL: '#deploys',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    assert.match(r.stdout, /rules/);
  });

  test('an invalid file lists every problem by path and exits 1', () => {
    const r = cli(['check-config', file('bad.yaml', BAD)]);
    assert.equal(r.status, 1);
    for (const path of [
      'rules.0.trigger',
      'rules.0.confidence',
      'policy.circuitBreaker.maxRollbacks',
      'policy.maxRevisionAgeSeconds',
    ]) {
      assert.match(r.stdout, new RegExp(`^  ${path.replace(/\./g, '\\.')}: `, 'm'));
    }
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
    const r = spawnSync(process.execPath, ['--import', 'tsx', resolve('src/main.ts')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        ROLLBACK_CONFIG: join(dir, 'bad.yaml'),
        PORT: '0',
        ROLLBACK_DATA_DIR: join(dir, 'data'),
      },
      timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot start: invalid config/);
    assert.match(r.stderr, /rules\.0\.confidence: /);
    assert.match(r.stderr, /policy\.circuitBreaker\.maxRollbacks: /);
  });
});
