// `${NAME}` references in config string values. Expanded after YAML parsing, value by value,
// so an environment variable can never inject YAML structure. `$${` escapes a literal `${`.
export interface EnvProblem {
  path: string;
  message: string;
}

const REF = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function expandEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  problems: EnvProblem[],
  path: string[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(REF, (whole, escaped: string, name: string) => {
      if (escaped) return whole.slice(1);
      const found = env[name];
      if (found === undefined) {
        problems.push({
          path: path.join('.') || '(root)',
          message: `environment variable ${name} is not set`,
        });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((v, i) => expandEnv(v, env, problems, [...path, String(i)]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, problems, [...path, k]);
    return out;
  }
  return value;
}
