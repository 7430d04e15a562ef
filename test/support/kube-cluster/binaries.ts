// Where the control-plane binaries are: the build script's cache folder (it builds what is
// missing, honours KUBEBUILDER_ASSETS, and prints the folder on its last line).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../cluster/build-control-plane.sh');
let cached: string | undefined;

export function controlPlaneBinaries(): string {
  if (cached) return cached;
  let out: string;
  try {
    // stderr (progress) goes to the test's output: a first run builds Kubernetes.
    out = execFileSync('bash', [SCRIPT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (e) {
    throw new Error(
      `the control-plane build failed (${(e as Error).message}); run \`bash test/cluster/build-control-plane.sh\` to see why`,
    );
  }
  cached = out.trim().split('\n').at(-1)!;
  return cached;
}

/** The CRD files the build script downloaded for the chart's optional objects. */
export function chartCrdFiles(): string[] {
  const parent = dirname(controlPlaneBinaries());
  const dir = readdirSync(parent).find((d) => d.startsWith('crds-'));
  if (!dir)
    throw new Error(`no crds-* folder in ${parent}: run test/cluster/build-control-plane.sh`);
  return readdirSync(join(parent, dir))
    .sort()
    .map((f) => join(parent, dir, f));
}
