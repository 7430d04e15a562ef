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
    const matchers: Matcher[] = [];
    rule.matchers.forEach((m, j) => {
      try {
        matchers.push(parseMatcher(m));
      } catch (err) {
        problems.push({ path: `${at}.matchers.${j}`, message: (err as Error).message });
      }
    });
    const out: CompiledRule = {
      name,
      alert: rule.alert,
      matchers,
      trigger: rule.trigger,
      confidence: rule.confidence,
      autoRollback: rule.autoRollback,
    };
    if (rule.slackChannel !== undefined) out.slackChannel = rule.slackChannel;
    if (rule.script) {
      const p = rule.script.path;
      if (p.startsWith('/') || p.split('/').includes('..')) {
        problems.push({
          path: `${at}.script.path`,
          message: 'must be a path relative to the scripts directory, without ".."',
        });
      }
      out.script = rule.script;
    }
    {
      // Script rules get the default target too: when the labels name a workload, the script
      // job is pinned to its revisions and coalesces per workload.
      const t = rule.target ?? targetTemplateSchema.parse({});
      const compile = (field: 'kind' | 'namespace' | 'name'): LabelTemplate => {
        try {
          return compileLabelTemplate(t[field]);
        } catch (err) {
          problems.push({ path: `${at}.target.${field}`, message: (err as Error).message });
          return () => '';
        }
      };
      out.target = {
        kind: compile('kind'),
        namespace: compile('namespace'),
        name: compile('name'),
      };
    }
    compiled.push(out);
  });
  return compiled;
}
