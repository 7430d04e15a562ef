// Fault injection: rules matched in order by method and path; each applies `times` times.
import type { FaultRule } from './types.js';

export class Faults {
  private rules: Array<{ rule: FaultRule; remaining: number }> = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, remaining: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first live rule matching the request, counted as used. */
  take(method: string, path: string, dryRun = false): FaultRule | undefined {
    const entry = this.rules.find(
      ({ rule, remaining }) =>
        remaining > 0 &&
        (!rule.method || rule.method.toUpperCase() === method) &&
        (!rule.path || rule.path.test(path)) &&
        (rule.dryRun === undefined || rule.dryRun === dryRun),
    );
    if (!entry) return undefined;
    entry.remaining--;
    return entry.rule;
  }
}
