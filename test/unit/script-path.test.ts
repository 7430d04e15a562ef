import { strict as assert } from 'node:assert';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import {
  resolveScriptPath,
  type ScriptFs,
  type ScriptPathProblem,
} from '../../src/executors/script/resolve-script-path.js';

type Entry = { type: 'dir' } | { type: 'file'; exec: boolean } | { type: 'link'; to: string };

/** An in-memory file tree with symlinks, enough for realpath/stat/access. */
function fakeFs(tree: Record<string, Entry>): ScriptFs {
  const fsError = (code: string): Error => Object.assign(new Error(code), { code });
  const realpath = async (path: string): Promise<string> => {
    let pending = path.split('/').filter(Boolean);
    let current = '/';
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      const next = posix.join(current, part);
      const entry = tree[next];
      if (!entry) throw fsError('ENOENT');
      if (entry.type === 'link') {
        if (++hops > 40) throw fsError('ELOOP');
        const to = posix.isAbsolute(entry.to) ? entry.to : posix.join(current, entry.to);
        pending = [...to.split('/').filter(Boolean), ...pending];
        current = '/';
      } else {
        current = next;
      }
    }
    return current;
  };
  return {
    realpath,
    async stat(path) {
      const entry = tree[await realpath(path)];
      return { isFile: () => entry.type === 'file', isDirectory: () => entry.type === 'dir' };
    },
    async access(path) {
      const entry = tree[await realpath(path)];
      if (entry.type !== 'file' || !entry.exec) throw fsError('EACCES');
    },
  };
}

const tree: Record<string, Entry> = {
  '/opt': { type: 'dir' },
  '/opt/scripts': { type: 'dir' },
  '/opt/scripts/undo.sh': { type: 'file', exec: true },
  '/opt/scripts/readme.txt': { type: 'file', exec: false },
  '/opt/scripts/sub': { type: 'dir' },
  '/opt/scripts/sub/nested.sh': { type: 'file', exec: true },
  '/opt/scripts/alias.sh': { type: 'link', to: 'sub/nested.sh' },
  '/opt/scripts/escape.sh': { type: 'link', to: '/bin/sh' },
  '/opt/scripts/escape-rel.sh': { type: 'link', to: '../outside.sh' },
  '/opt/scripts/linkdir': { type: 'link', to: '/etc' },
  '/opt/scripts/loop': { type: 'link', to: 'loop' },
  '/opt/outside.sh': { type: 'file', exec: true },
  '/bin': { type: 'dir' },
  '/bin/sh': { type: 'file', exec: true },
  '/etc': { type: 'dir' },
  '/etc/evil.sh': { type: 'file', exec: true },
  // A scripts directory reached through a symlink (as with Kubernetes ConfigMap mounts).
  '/mnt': { type: 'dir' },
  '/mnt/current': { type: 'link', to: '/opt/scripts' },
};

describe('resolveScriptPath', () => {
  const ok: Array<[dir: string, requested: string, resolved: string]> = [
    ['/opt/scripts', 'undo.sh', '/opt/scripts/undo.sh'],
    ['/opt/scripts', './undo.sh', '/opt/scripts/undo.sh'],
    ['/opt/scripts', 'sub/nested.sh', '/opt/scripts/sub/nested.sh'],
    ['/opt/scripts', 'alias.sh', '/opt/scripts/sub/nested.sh'],
    ['/opt/scripts', '/opt/scripts/undo.sh', '/opt/scripts/undo.sh'],
    ['/opt/scripts/', 'undo.sh', '/opt/scripts/undo.sh'],
    ['/mnt/current', 'undo.sh', '/opt/scripts/undo.sh'],
    ['/mnt/current', '/opt/scripts/undo.sh', '/opt/scripts/undo.sh'],
  ];
  for (const [dir, requested, resolved] of ok) {
    test(`accepts ${requested} in ${dir}`, async () => {
      assert.deepEqual(await resolveScriptPath(dir, requested, fakeFs(tree)), {
        ok: true,
        path: resolved,
      });
    });
  }

  const refused: Array<[requested: string, problem: ScriptPathProblem, reason: RegExp]> = [
    ['../outside.sh', 'outside', /must not contain "\.\."/],
    ['sub/../undo.sh', 'outside', /must not contain "\.\."/],
    ['sub/..', 'outside', /must not contain "\.\."/],
    ['/bin/sh', 'outside', /outside the scripts directory/],
    ['/opt/scriptsX/undo.sh', 'outside', /outside the scripts directory/],
    ['/opt/scripts', 'outside', /outside the scripts directory/],
    ['escape.sh', 'outside', /resolves to \/bin\/sh, outside/],
    ['escape-rel.sh', 'outside', /resolves to \/opt\/outside\.sh, outside/],
    ['linkdir/evil.sh', 'outside', /resolves to \/etc\/evil\.sh, outside/],
    ['missing.sh', 'not_found', /does not exist/],
    ['loop', 'invalid', /cannot be resolved \(ELOOP\)/],
    ['sub', 'not_file', /is not a regular file/],
    ['readme.txt', 'not_executable', /is not executable/],
    ['', 'invalid', /not a valid path/],
    ['  ', 'invalid', /not a valid path/],
    ['undo.sh\0x', 'invalid', /not a valid path/],
  ];
  for (const [requested, problem, reason] of refused) {
    test(`refuses ${JSON.stringify(requested)}: ${problem}`, async () => {
      const result = await resolveScriptPath('/opt/scripts', requested, fakeFs(tree));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.problem, problem);
      assert.match(result.reason, reason);
    });
  }

  test('a missing scripts directory is reported as such', async () => {
    const result = await resolveScriptPath('/nowhere', 'undo.sh', fakeFs(tree));
    assert.deepEqual(result, {
      ok: false,
      problem: 'not_found',
      reason: 'scripts directory /nowhere is not accessible (ENOENT)',
    });
  });
});
