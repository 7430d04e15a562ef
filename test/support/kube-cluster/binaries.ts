// Where the control-plane binaries are: the build script's cache folder (it builds what is
// missing, honours KUBEBUILDER_ASSETS, and prints the folder on its last line).
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildScriptOutput } from '../build-script-output.js';

const SCRIPT = resolve(import.meta.dirname, '../../cluster/build-control-plane.sh');
let cached: string | undefined;

export function controlPlaneBinaries(): string {
  return (cached ??= buildScriptOutput(SCRIPT, 'control-plane'));
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
