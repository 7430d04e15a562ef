// Decides whether a rule's script path may run: it must resolve, symlinks included, to an
// executable regular file inside the scripts directory. Checked before anything is spawned, and
// the resolved path (not the requested one) is what gets executed.
import { constants, promises as nodeFs } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** The few fs calls this needs, injectable so the rules can be tested without a disk. */
export interface ScriptFs {
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<{ isFile(): boolean; isDirectory(): boolean }>;
  access(path: string, mode: number): Promise<void>;
}

export const nodeScriptFs: ScriptFs = {
  realpath: (path) => nodeFs.realpath(path),
  stat: (path) => nodeFs.stat(path),
  access: (path, mode) => nodeFs.access(path, mode),
};

export type ScriptPathProblem = 'invalid' | 'outside' | 'not_found' | 'not_file' | 'not_executable';

export type ScriptPathResult =
  { ok: true; path: string } | { ok: false; problem: ScriptPathProblem; reason: string };

const errorCode = (err: unknown): string =>
  err instanceof Error && 'code' in err ? String(err.code) : 'unknown';

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * @param scriptsDir absolute, or relative to the process's working directory
 * @param requested the rule's `script.path`: relative to scriptsDir, or absolute inside it
 */
export async function resolveScriptPath(
  scriptsDir: string,
  requested: string,
  fs: ScriptFs = nodeScriptFs,
): Promise<ScriptPathResult> {
  const fail = (problem: ScriptPathProblem, reason: string): ScriptPathResult => ({
    ok: false,
    problem,
    reason,
  });
  if (requested.trim() === '' || requested.includes('\0')) {
    return fail('invalid', `script path ${JSON.stringify(requested)} is not a valid path`);
  }
  // Refused outright, even when it would land inside: a rule has no reason to climb.
  if (requested.split(/[\\/]/).includes('..')) {
    return fail('outside', `script path "${requested}" must not contain ".."`);
  }
  const dir = resolve(scriptsDir);
  let realDir: string;
  try {
    realDir = await fs.realpath(dir);
  } catch (err) {
    return fail('not_found', `scripts directory ${dir} is not accessible (${errorCode(err)})`);
  }
  const candidate = isAbsolute(requested) ? resolve(requested) : resolve(dir, requested);
  if (!isInside(dir, candidate) && !isInside(realDir, candidate)) {
    return fail('outside', `script path "${requested}" is outside the scripts directory ${dir}`);
  }
  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch (err) {
    const code = errorCode(err);
    return code === 'ENOENT'
      ? fail('not_found', `script ${candidate} does not exist`)
      : fail('invalid', `script ${candidate} cannot be resolved (${code})`);
  }
  if (!isInside(realDir, real)) {
    return fail(
      'outside',
      `script "${requested}" resolves to ${real}, outside the scripts directory ${realDir}`,
    );
  }
  let stats: Awaited<ReturnType<ScriptFs['stat']>>;
  try {
    stats = await fs.stat(real);
  } catch (err) {
    return fail('not_found', `script ${real} cannot be read (${errorCode(err)})`);
  }
  if (!stats.isFile()) return fail('not_file', `script ${real} is not a regular file`);
  try {
    await fs.access(real, constants.X_OK);
  } catch {
    return fail('not_executable', `script ${real} is not executable (chmod +x it)`);
  }
  return { ok: true, path: real };
}
