// Namespace globs in policy.allowedNamespaces / deniedNamespaces. A namespace is a DNS-1123
// label (lower-case letters, digits, '-', 1-63 characters, alphanumeric at both ends); a glob
// that no such name can match (`Kube-System`, `'prod '`, `-x`) would silently never apply, and on
// the deny list that fails open, so check-config refuses it.
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
