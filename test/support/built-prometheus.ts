// Where the Prometheus with Kubernetes service discovery is: the cache of
// test/node/build-prometheus.sh (it builds it when missing; a first run takes minutes).
import { resolve } from 'node:path';
import { buildScriptOutput } from './build-script-output.js';

const SCRIPT = resolve(import.meta.dirname, '../node/build-prometheus.sh');
let cached: string | undefined;

/** The built `prometheus` binary's path; its `promtool` is next to it. */
export function builtPrometheus(): string {
  return (cached ??= buildScriptOutput(SCRIPT, 'Prometheus'));
}
