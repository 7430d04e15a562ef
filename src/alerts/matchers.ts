// Alertmanager matcher syntax (https://prometheus.io/docs/alerting/latest/configuration/#matcher):
// `name="value"`, `name!=value`, `name=~"regex"`, `name!~"regex"`. Regexes are fully anchored,
// as in Alertmanager, so `service=~"api"` does not match `api-gateway`.
//
// Regexes run on RE2 (re2js), not V8's backtracking engine: label values come from whoever can
// send alerts, and `(a+)+b` against 31 `a`s kept V8 busy for 14.5 s. RE2 matches in time linear
// in the input and has Alertmanager's own syntax (Go's regexp is RE2). As a second bound, a regex
// is never run on a label value longer than MAX_REGEX_INPUT (the payload schemas refuse such
// values anyway). Such a matcher cannot be evaluated, which is not the same as "does not hold":
// the alert is decided `invalid_target` with why (unevaluable), never passed on to the next,
// possibly broader rule, or whoever sets the label would choose the rule.
import { RE2JS } from 're2js';

export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  /** Whether it holds; false too when it cannot be evaluated (see unevaluable). */
  test(labels: Record<string, string>): boolean;
  /** Why it cannot be evaluated on these labels (a value over MAX_REGEX_INPUT), if it cannot. */
  unevaluable(labels: Record<string, string>): string | undefined;
  /** Something check-config should point out (the matcher still works). */
  warning?: string;
}

/** Far above any real label value (Kubernetes names stop at 253); RE2 takes well under 1 ms. */
export const MAX_REGEX_INPUT = 4096;

/**
 * Whether the pattern repeats a group that itself holds a repetition: `(a+)+`, `(\\w*x)*`,
 * `(a|b+){2,}`. A scan, not a regex: groups, escapes and character classes are skipped properly.
 */
export function hasNestedQuantifier(pattern: string): boolean {
  const inner: boolean[] = [false];
  const repeats = (i: number) => {
    if (pattern[i] === '+' || pattern[i] === '*') return true;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
    if (!m) return false;
    return m[2] === undefined ? Number(m[1]) > 1 : m[3] === '' || Number(m[3]) > 1;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') {
      // Skip the class: a leading `]` or `^]` is literal.
      i += pattern[i + 1] === '^' ? 2 : 1;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
    } else if (c === '(') {
      inner.push(false);
      if (pattern[i + 1] === '?') i++; // `(?:`, `(?P<name>`, `(?i)`: not a quantifier
    } else if (c === ')') {
      const held = inner.pop() ?? false;
      if (held && repeats(i + 1)) return true;
      if (held || repeats(i + 1)) inner[inner.length - 1] = true;
    } else if (c === '+' || c === '*' || c === '?' || c === '{') {
      if (c === '{' ? repeats(i) : true) inner[inner.length - 1] = true;
    }
  }
  return false;
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
  let unevaluable: Matcher['unevaluable'] = () => undefined;
  let warning: string | undefined;
  if (op === '=~' || op === '!~') {
    let re: RE2JS;
    try {
      re = RE2JS.compile(`^(?:${value})$`);
    } catch (err) {
      throw new Error(
        `invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message} (RE2 syntax, as in Alertmanager)`,
      );
    }
    const holds = op === '=~';
    test = (l) => {
      const v = l[name] ?? '';
      if (v.length > MAX_REGEX_INPUT) return false;
      return re.matches(v) === holds;
    };
    unevaluable = (l) => {
      const n = (l[name] ?? '').length;
      return n > MAX_REGEX_INPUT
        ? `label ${name} is ${n} characters, more than the ${MAX_REGEX_INPUT} a regex matcher evaluates`
        : undefined;
    };
    if (hasNestedQuantifier(value))
      warning = `nested quantifier in ${JSON.stringify(value)}: harmless here (RE2 runs in linear time), but it backtracks catastrophically in engines that copy this rule; simplify it (e.g. "(a+)+" is "a+")`;
  } else {
    // A missing label equals the empty string, as in Alertmanager.
    test = op === '=' ? (l) => (l[name] ?? '') === value : (l) => (l[name] ?? '') !== value;
  }
  return { name, op, value, test, unevaluable, ...(warning ? { warning } : {}) };
}
