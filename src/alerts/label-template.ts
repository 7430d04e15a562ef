// Label templates in rule targets: literal text with `{{ expr }}` parts, where expr is
// `labels.NAME` or a quoted literal, `a || b` takes the first non-empty value, and `a && b` is
// b when a is non-empty, else empty (`labels.rollout && "Rollout"`: a label that selects a kind).
// Compiled once at config load so a bad template is a config error, not a 3 a.m. surprise.
export type LabelTemplate = (labels: Record<string, string>) => string;

const PART = /\{\{\s*(.*?)\s*\}\}/g;
const TERM = /^(?:labels\.([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)")$/;

type Term = { label: string } | { literal: string };
/** `a && b && c`: the last value when every one is non-empty. */
type Conjunction = Term[];

function compileTerm(raw: string): Term {
  const t = raw.trim();
  const m = TERM.exec(t);
  if (!m)
    throw new Error(`unsupported template term ${JSON.stringify(t)} (use labels.NAME or "text")`);
  return m[1] !== undefined
    ? { label: m[1] }
    : { literal: JSON.parse(`"${m[2] ?? ''}"`) as string };
}

function compileExpr(expr: string): Conjunction[] {
  return expr.split('||').map((alt) => alt.split('&&').map(compileTerm));
}

function evaluate(conjunction: Conjunction, labels: Record<string, string>): string {
  let v = '';
  for (const term of conjunction) {
    v = 'label' in term ? (labels[term.label] ?? '') : term.literal;
    if (v === '') return '';
  }
  return v;
}

export function compileLabelTemplate(source: string): LabelTemplate {
  const pieces: Array<string | Conjunction[]> = [];
  let last = 0;
  for (const m of source.matchAll(PART)) {
    pieces.push(source.slice(last, m.index));
    pieces.push(compileExpr(m[1] ?? ''));
    last = m.index + m[0].length;
  }
  pieces.push(source.slice(last));
  if (pieces.some((p) => typeof p === 'string' && /\{\{|\}\}/.test(p))) {
    throw new Error(`unbalanced {{ }} in template ${JSON.stringify(source)}`);
  }
  return (labels) =>
    pieces
      .map((p) => {
        if (typeof p === 'string') return p;
        for (const alternative of p) {
          const v = evaluate(alternative, labels);
          if (v !== '') return v;
        }
        return '';
      })
      .join('');
}
