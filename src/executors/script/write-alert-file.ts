// A fresh private directory per run holding the alert JSON (0600): it is the script's working
// directory too, and it is removed when the script ends whatever the outcome.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AlertFile {
  dir: string;
  path: string;
  remove(): Promise<void>;
}

export async function writeAlertFile(
  content: string,
  tmpDir: string = tmpdir(),
): Promise<AlertFile> {
  // mkdtemp creates the directory 0700, so no other user can swap the file in between.
  const dir = await mkdtemp(join(tmpDir, 'rollback-script-'));
  const path = join(dir, 'alert.json');
  try {
    await writeFile(path, content, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, path, remove: () => rm(dir, { recursive: true, force: true }) };
}
