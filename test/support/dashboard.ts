// The chart's Grafana dashboard as tests read it: its panel queries, and Grafana's variable
// substitution for one instant view (one data point, so every interval is the whole range).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string; refId: string }>;
}

export interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; query: unknown }> };
}

export function loadDashboard(): Dashboard {
  const path = resolve(
    import.meta.dirname,
    '../../charts/rollback-controller/files/dashboard.json',
  );
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every query of every panel. */
export function panelQueries(d: Dashboard): Array<{ panel: string; refId: string; expr: string }> {
  return d.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })),
  );
}

/** `expr` as Grafana sends it for a range of `seconds`, with the variables set to these values. */
export function substitute(
  expr: string,
  v: { cluster: string; workloadNamespace: string; seconds: number },
): string {
  const range = `${v.seconds}s`;
  return expr
    .replaceAll('$cluster', v.cluster)
    .replaceAll('$workload_namespace', v.workloadNamespace)
    .replaceAll('$__range_s', String(v.seconds))
    .replaceAll('$__range', range)
    .replaceAll('$__rate_interval', range)
    .replaceAll('$__interval', range);
}
