// Alertmanager matcher syntax (https://prometheus.io/docs/alerting/latest/configuration/#matcher):
// `name="value"`, `name!=value`, `name=~"regex"`, `name!~"regex"`. Regexes are fully anchored,
// as in Alertmanager, so `service=~"api"` does not match `api-gateway`.
export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  test(labels: Record<string, string>): boolean;
}

const SHAPE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

function unquote(raw: string): string {
  if (!raw.startsWith('"')) {
    if (/["\s,{}]/.test(raw))
      throw new Error(`unquoted value ${JSON.stringify(raw)} must be quoted`);
    return raw;
  }
  if (raw.length < 2 || !raw.endsWith('"')) throw new Error('missing closing quote');
  return JSON.parse(raw) as string;
}

export function parseMatcher(text: string): Matcher {
  const m = SHAPE.exec(text);
  if (!m)
    throw new Error(
      `${JSON.stringify(text)} is not a matcher (expected name="value", name!=, =~ or !~)`,
    );
  const [, name, op, rawValue] = m as unknown as [string, string, Matcher['op'], string];
  const value = unquote(rawValue);
  let test: Matcher['test'];
  if (op === '=~' || op === '!~') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${value})$`, 'u');
    } catch (err) {
      throw new Error(
        `invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message}`,
      );
    }
    test = op === '=~' ? (l) => re.test(l[name] ?? '') : (l) => !re.test(l[name] ?? '');
  } else {
    // A missing label equals the empty string, as in Alertmanager.
    test = op === '=' ? (l) => (l[name] ?? '') === value : (l) => (l[name] ?? '') !== value;
  }
  return { name, op, value, test };
}
