// Every shipped rollback script and every test fixture script must pass shellcheck (the Debian
// package), with all optional severities on: these scripts handle untrusted alert data.
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';

const repo = resolve(import.meta.dirname, '..', '..');
const shellScripts = (dir: string): string[] =>
  readdirSync(join(repo, dir))
    .filter((name) => name.endsWith('.sh'))
    .sort()
    .map((name) => join(dir, name));

const shipped = shellScripts('rollback-scripts');
const fixtures = shellScripts(join('test', 'fixtures', 'scripts'));

test('the expected scripts are there to check', () => {
  assert.deepEqual(shipped, [
    'rollback-scripts/custom-template.sh',
    'rollback-scripts/helm-rollback.sh',
    'rollback-scripts/kubectl-rollout-undo.sh',
  ]);
  assert.ok(fixtures.length >= 5, fixtures.join(' '));
});

for (const file of [...shipped, ...fixtures]) {
  test(`shellcheck ${file}`, async () => {
    const result = await execa(
      'shellcheck',
      ['--shell=bash', '--severity=style', '--external-sources', file],
      {
        cwd: repo,
        reject: false,
      },
    );
    assert.equal(result.exitCode, 0, `${result.stdout}${result.stderr}`);
  });
}

test('shipped scripts use strict mode and read ROLLBACK_DRY_RUN', async () => {
  for (const file of shipped) {
    const text = await readFile(join(repo, file), 'utf8');
    assert.match(text, /^#!\/usr\/bin\/env bash\n/, file);
    assert.match(text, /^set -euo pipefail$/m, file);
    assert.match(text, /ROLLBACK_DRY_RUN/, file);
    assert.match(text, /^# Exit codes:$/m, file);
  }
});

test('shellcheck does flag an unquoted expansion (the check is live)', async () => {
  const result = await execa('shellcheck', ['--shell=bash', '-'], {
    input: '#!/usr/bin/env bash\nrm -rf $ROLLBACK_TARGET\n',
    reject: false,
  });
  assert.notEqual(result.exitCode, 0);
  assert.match(result.stdout, /SC2086/);
});
