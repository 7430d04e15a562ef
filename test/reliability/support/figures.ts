// Figures a reliability file collects (counts, latencies, memory) and prints as one table when
// the file ends, so a run shows what the suite measured, not only that it passed.
import { after } from 'node:test';

export interface Figure {
  scenario: string;
  figure: string;
  value: string;
}

export class Figures {
  private readonly rows: Figure[] = [];

  /** Registers the `after` hook that prints the table for `file`. */
  constructor(private readonly file: string) {
    after(() => this.print());
  }

  add(scenario: string, figure: string, value: number | string, unit = ''): void {
    const text = typeof value === 'number' ? formatNumber(value) : value;
    this.rows.push({ scenario, figure, value: unit ? `${text} ${unit}` : text });
  }

  print(): void {
    const header: Figure = { scenario: 'scenario', figure: 'figure', value: 'value' };
    const all = [header, ...this.rows];
    const width = (k: keyof Figure) => Math.max(...all.map((r) => r[k].length));
    const [a, b, c] = [width('scenario'), width('figure'), width('value')];
    const line = (r: Figure) =>
      `| ${r.scenario.padEnd(a)} | ${r.figure.padEnd(b)} | ${r.value.padStart(c)} |`;
    const rule = `|${'-'.repeat(a + 2)}|${'-'.repeat(b + 2)}|${'-'.repeat(c + 2)}|`;
    console.log(
      [`reliability figures: ${this.file}`, line(header), rule, ...this.rows.map(line)].join('\n'),
    );
  }
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** The q-quantile (0..1) of the samples, nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((x, y) => x - y);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export const MB = 1024 * 1024;
