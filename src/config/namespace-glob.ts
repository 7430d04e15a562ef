// Namespace globs in policy.allowedNamespaces / deniedNamespaces. A namespace is a DNS-1123
// label (lower-case letters, digits, '-', 1-63 characters, alphanumeric at both ends); a glob
// that no such name can match (`Kube-System`, `'prod '`, `-x`) would silently never apply, and on
// the deny list that fails open, so check-config refuses it.
//
// Matching never backtracks: a glob compiled to a regular expression (`.*-.*-prod`) made V8
// backtrack for seconds on a long label, and an 8-star glob for 56 s on a 63-character name.
import { z } from 'zod';

/** Why no valid namespace can match the glob, or undefined when one can. */
export function impossibleNamespaceGlob(glob: string): string | undefined {
  const bad = [...new Set(glob.replace(/[a-z0-9*-]/g, ''))];
  if (bad.length)
    return `can never match a namespace: namespaces use only a-z, 0-9 and '-' (found ${bad.map((c) => JSON.stringify(c)).join(', ')}${/[A-Z]/.test(glob) ? '; write it in lower case' : ''})`;
  if (glob.startsWith('-') || glob.endsWith('-'))
    return "can never match a namespace: a namespace starts and ends with a letter or digit, not '-'";
  if (glob.replace(/\*/g, '').length > 63)
    return 'can never match a namespace: namespaces are at most 63 characters';
  return undefined;
}

export const namespaceGlobSchema = z
  .string()
  .min(1)
  .superRefine((glob, ctx) => {
    const why = impossibleNamespaceGlob(glob);
    if (why) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(glob)} ${why}` });
  });

/**
 * Whether `name` matches `glob`, where `*` is any run of characters and everything else is
 * literal. The parts between stars are found left to right, each at its first place after the
 * previous one (for `*` alone the first place is always a right choice): time linear in the
 * name for each part, never backtracking.
 */
export function globMatches(glob: string, name: string): boolean {
  const parts = glob.split('*');
  const first = parts[0] ?? '';
  if (parts.length === 1) return glob === name;
  const last = parts[parts.length - 1] ?? '';
  if (name.length < first.length + last.length) return false;
  if (!name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = name.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}
