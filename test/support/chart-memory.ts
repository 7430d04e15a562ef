// What the chart gives the controller's container, read from `helm template` with the real helm:
// the memory limit and the NODE_OPTIONS heap cap it derives from it. The replay bench and the
// restart test run the controller under exactly these, so they measure what a pod gets.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { helmPath } from './tools.js';

export interface ChartMemory {
  /** resources.limits.memory in MiB. */
  limitMiB: number;
  /** The flags NODE_OPTIONS carries, e.g. ['--max-old-space-size=153']. */
  nodeFlags: string[];
  /** journal.compactAboveMiB in the chart's config. */
  compactAboveMiB: number;
}

const UNITS: Record<string, number> = {
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  M: 1e6 / 2 ** 20,
  G: 1e9 / 2 ** 20,
};

interface Container {
  env?: Array<{ name: string; value?: string }>;
  resources?: { limits?: { memory?: string } };
}

export function chartMemory(...setArgs: string[]): ChartMemory {
  const home = mkdtempSync(join(tmpdir(), 'rc-helm-'));
  try {
    const r = spawnSync(
      helmPath(),
      [
        'template',
        'rc',
        resolve(import.meta.dirname, '../../charts/rollback-controller'),
        ...setArgs,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          HELM_CACHE_HOME: home,
          HELM_CONFIG_HOME: home,
          HELM_DATA_HOME: home,
        },
      },
    );
    if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, any> | null);
    const workload = docs.find((d) => d?.kind === 'Deployment' || d?.kind === 'StatefulSet');
    const container = workload?.spec.template.spec.containers[0] as Container;
    const limit = container.resources?.limits?.memory ?? '';
    const m = /^(\d+)(Ki|Mi|Gi|M|G)$/.exec(limit);
    if (!m) throw new Error(`unexpected memory limit ${JSON.stringify(limit)}`);
    const configMap = docs.find((d) => d?.kind === 'ConfigMap' && d['data']?.['config.yaml']);
    const config = parseConfigText(String(configMap?.['data']['config.yaml']), {});
    if (!config.ok)
      throw new Error(`the chart's config is invalid: ${JSON.stringify(config.problems)}`);
    const nodeOptions = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    return {
      limitMiB: Number(m[1]) * (UNITS[m[2] ?? 'Mi'] ?? 1),
      nodeFlags: nodeOptions.split(' ').filter(Boolean),
      compactAboveMiB: config.config.journal.compactAboveMiB,
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
