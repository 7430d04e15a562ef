// Turns validated rules into matchers and compiled templates, reporting problems by path
// (`rules.2.matchers.0: ...`) the way check-config prints them.
import { compileLabelTemplate, type LabelTemplate } from '../alerts/label-template.js';
import { parseMatcher, type Matcher } from '../alerts/matchers.js';
import { targetTemplateSchema, type Confidence, type Rule, type ScriptAction } from './schema.js';

export interface CompiledRule {
  name: string;
  alert: string;
  matchers: Matcher[];
  trigger: string;
  confidence: Confidence;
  autoRollback: boolean;
  target?: { kind: LabelTemplate; namespace: LabelTemplate; name: LabelTemplate };
  script?: ScriptAction;
  slackChannel?: string;
}

export interface ConfigProblem {
  path: string;
  message: string;
}

export function compileRules(rules: Rule[], problems: ConfigProblem[]): CompiledRule[] {
  const names = new Set<string>();
  const compiled: CompiledRule[] = [];
  rules.forEach((rule, i) => {
    const at = `rules.${i}`;
    const name =
      rule.name ??
      (rules.filter((r) => r.alert === rule.alert).length > 1 ? `${rule.alert}#${i}` : rule.alert);
    if (names.has(name))
      problems.push({ path: `${at}.name`, message: `duplicate rule name ${JSON.stringify(name)}` });
    names.add(name);
    const out: CompiledRule = {
      name,
      alert: rule.alert,
      matchers: compileMatchers(rule.matchers, at, problems),
      trigger: rule.trigger,
      confidence: rule.confidence,
      autoRollback: rule.autoRollback,
    };
    if (rule.slackChannel !== undefined) out.slackChannel = rule.slackChannel;
    if (rule.script) {
      checkScriptPath(rule.script.path, at, problems);
      out.script = rule.script;
    }
    // Script rules get the default target too: when the labels name a workload, the script
    // job is pinned to its revisions and coalesces per workload.
    const t = rule.target ?? targetTemplateSchema.parse({});
    out.target = {
      kind: compileTemplate(t.kind, `${at}.target.kind`, problems),
      namespace: compileTemplate(t.namespace, `${at}.target.namespace`, problems),
      name: compileTemplate(t.name, `${at}.target.name`, problems),
    };
    compiled.push(out);
  });
  return compiled;
}

/**
 * The same matcher, template and script-path checks on rules that failed the schema, so
 * check-config lists those problems in the same pass instead of after the schema ones are fixed.
 * Only fields of the right type are checked: the schema already reported the others.
 */
export function checkRawRules(rules: unknown, problems: ConfigProblem[]): void {
  if (!Array.isArray(rules)) return;
  rules.forEach((rule: unknown, i) => {
    if (!isRecord(rule)) return;
    const at = `rules.${i}`;
    if (Array.isArray(rule['matchers'])) {
      rule['matchers'].forEach((m: unknown, j) => {
        if (typeof m === 'string') compileMatcher(m, `${at}.matchers.${j}`, problems);
      });
    }
    const script = rule['script'];
    if (isRecord(script) && typeof script['path'] === 'string')
      checkScriptPath(script['path'], at, problems);
    const target = rule['target'];
    if (isRecord(target)) {
      for (const field of ['kind', 'namespace', 'name'] as const) {
        const text = target[field];
        if (typeof text === 'string') compileTemplate(text, `${at}.target.${field}`, problems);
      }
    }
  });
}

function compileMatchers(list: string[], at: string, problems: ConfigProblem[]): Matcher[] {
  const out: Matcher[] = [];
  list.forEach((m, j) => {
    const matcher = compileMatcher(m, `${at}.matchers.${j}`, problems);
    if (matcher) out.push(matcher);
  });
  return out;
}

function compileMatcher(
  text: string,
  path: string,
  problems: ConfigProblem[],
): Matcher | undefined {
  try {
    return parseMatcher(text);
  } catch (err) {
    problems.push({ path, message: (err as Error).message });
    return undefined;
  }
}

function compileTemplate(text: string, path: string, problems: ConfigProblem[]): LabelTemplate {
  try {
    return compileLabelTemplate(text);
  } catch (err) {
    problems.push({ path, message: (err as Error).message });
    return () => '';
  }
}

function checkScriptPath(p: string, at: string, problems: ConfigProblem[]): void {
  if (p.startsWith('/') || p.split('/').includes('..')) {
    problems.push({
      path: `${at}.script.path`,
      message: 'must be a path relative to the scripts directory, without ".."',
    });
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
