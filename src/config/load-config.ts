// Config from YAML text (or none): ${ENV} expansion, one zod schema, compiled rules. Returns every
// problem with its path instead of stopping at the first, like `amtool check-config`.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { clusterIdentity } from './cluster-identity.js';
import {
  checkRawRules,
  isRecord,
  compileRules,
  type CompiledRule,
  type ConfigProblem,
} from './compile-rules.js';
import { DEFAULT_RULES } from './default-rules.js';
import { expandEnv } from './expand-env.js';
import { configSchema, type Config } from './schema.js';

export type { ConfigProblem };

export type ConfigResult =
  { ok: true; config: Config; rules: CompiledRule[] } | { ok: false; problems: ConfigProblem[] };

const RANK = { low: 0, medium: 1, high: 2 } as const;

export function parseConfigObject(
  input: unknown,
  env: Record<string, string | undefined>,
): ConfigResult {
  const problems: ConfigProblem[] = [];
  const expanded = expandEnv(input ?? {}, env, problems);
  const parsed = configSchema.safeParse(expanded);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ path: issue.path.map(String).join('.') || '(root)', message: issue.message });
    }
    if (isRecord(expanded)) checkRawRules(expanded['rules'], problems);
    return { ok: false, problems: sortByPath(problems) };
  }
  const raw = parsed.data;
  const rules = raw.rules ?? configSchema.shape.rules.unwrap().parse(DEFAULT_RULES);
  const config: Config = { ...raw, rules, cluster: clusterIdentity(raw.cluster, env, problems) };
  if (RANK[config.policy.approvalConfidence] > RANK[config.policy.autoRollbackConfidence]) {
    problems.push({
      path: 'policy.approvalConfidence',
      message: 'must not be higher than policy.autoRollbackConfidence',
    });
  }
  const compiled = compileRules(rules, problems);
  return problems.length
    ? { ok: false, problems: sortByPath(problems) }
    : { ok: true, config, rules: compiled };
}

export function parseConfigText(
  text: string,
  env: Record<string, string | undefined>,
): ConfigResult {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const message =
      err instanceof YAMLParseError ? (err.message.split('\n')[0] ?? err.message) : String(err);
    return { ok: false, problems: [{ path: '(yaml)', message }] };
  }
  if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) {
    return {
      ok: false,
      problems: [{ path: '(root)', message: 'the config must be a YAML mapping' }],
    };
  }
  return parseConfigObject(doc, env);
}

/** Problems in file order (rules.2 before rules.10), whichever check found them. */
function sortByPath(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
}
