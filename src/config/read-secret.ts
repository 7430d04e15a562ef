// Secrets come from NAME or NAME_FILE (a mounted Secret). A trailing newline in the file is
// dropped because `echo secret > file` and kubectl-created secrets commonly add one.
import { readFileSync } from 'node:fs';

export interface SecretSource {
  env: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

export function readSecret(
  name: string,
  { env, readFile = (p) => readFileSync(p, 'utf8') }: SecretSource,
): string | undefined {
  const direct = env[name];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return undefined;
  let value: string;
  try {
    value = readFile(file);
  } catch (err) {
    throw new Error(
      `${name}_FILE=${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  value = value.replace(/\r?\n$/, '');
  return value === '' ? undefined : value;
}
