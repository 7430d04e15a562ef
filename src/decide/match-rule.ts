// First rule whose alert name and matchers match, in config order (like an Alertmanager route).
import type { CompiledRule } from '../config/compile-rules.js';

export function matchRule(
  rules: readonly CompiledRule[],
  labels: Record<string, string>,
): CompiledRule | undefined {
  const alertname = labels['alertname'];
  return rules.find((r) => r.alert === alertname && r.matchers.every((m) => m.test(labels)));
}
