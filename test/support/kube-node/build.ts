// The node's binaries and images: built (or found cached) by the scripts under test/node/,
// which print their output folder on the last line.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SCRIPTS = resolve(import.meta.dirname, '../../node');

function runScript(name: string): string {
  try {
    // stderr (progress) goes to the test's output: a first run builds.
    const out = execFileSync('bash', [join(SCRIPTS, name)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return out.trim().split('\n').at(-1)!;
  } catch (e) {
    throw new Error(
      `test/node/${name} failed (${(e as Error).message}); run \`bash test/node/${name}\` to see why`,
    );
  }
}

let bin: string | undefined;
/** The folder with kubelet and kube-proxy (and the control plane). */
export function nodeBinaries(): string {
  return (bin ??= runScript('build-node.sh'));
}

export interface NodeImages {
  /** OCI archives to import into containerd. */
  archives: string[];
  controller: string;
  demoV1: string;
  demoV2: string;
}

let images: NodeImages | undefined;
export function nodeImages(): NodeImages {
  if (images) return images;
  const dir = runScript('build-images.sh');
  const archives = readdirSync(dir)
    .filter((f) => f.endsWith('.tar'))
    .map((f) => join(dir, f));
  const pkg = JSON.parse(readFileSync(resolve(SCRIPTS, '../../package.json'), 'utf8'));
  const version = (pkg as { version: string }).version;
  images = {
    archives,
    controller: `localhost/rollback-controller:${version}`,
    demoV1: 'localhost/demo-app:v1',
    demoV2: 'localhost/demo-app:v2',
  };
  return images;
}
