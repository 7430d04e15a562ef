// First rule whose alert name and matchers match, in config order (like an Alertmanager route).
// A matcher that cannot be evaluated stops the search at its rule: passing the alert on to the
// next rule would let whoever sets the label choose the rule.
import type { CompiledRule } from '../config/compile-rules.js';

export type RuleMatch =
  { rule: CompiledRule; unevaluable?: undefined } | { rule: CompiledRule; unevaluable: string };

export function matchRule(
  rules: readonly CompiledRule[],
  labels: Record<string, string>,
): RuleMatch | undefined {
  const alertname = labels['alertname'];
  for (const rule of rules) {
    if (rule.alert !== alertname) continue;
    for (const m of rule.matchers) {
      const why = m.unevaluable(labels);
      if (why) return { rule, unevaluable: why };
    }
    if (rule.matchers.every((m) => m.test(labels))) return { rule };
  }
  return undefined;
}
