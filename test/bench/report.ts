// Small pure helpers for the bench report: percentiles, the machine line, the markdown table.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Nearest-rank percentile of unsorted samples (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    /* not Linux: os.cpus() is fine */
  }
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpus().length} cores, ${gib} GiB RAM, Node ${process.version} (${process.platform}/${process.arch})`;
}

export interface Row {
  figure: string;
  target: string;
  measured: string;
  /** undefined: informational, no target. */
  pass?: boolean;
}

export function markdownTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.figure,
    r.target,
    r.measured,
    r.pass === undefined ? '—' : r.pass ? 'pass' : '**miss**',
  ]);
  const head = ['figure', 'target', 'measured', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
export const ms = (n: number) => `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms`;
export const rate = (n: number) => `${Math.round(n).toLocaleString('en-US')} req/s`;
