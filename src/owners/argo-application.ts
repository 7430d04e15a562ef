// Reading Argo CD Applications and ApplicationSets for what matters to a rollback: is automated
// sync on, and who would turn it back on (an app-of-apps parent, an ApplicationSet).
import type { GitOpsObject } from './owner-objects.js';

/**
 * The Application's automated sync policy when it is on. Argo CD 3.1 added
 * `automated.enabled` (false turns it off); older versions only know "present = on".
 */
export function automatedSync(app: GitOpsObject): Record<string, unknown> | undefined {
  const policy = app.spec?.['syncPolicy'] as { automated?: unknown } | undefined;
  const automated = policy?.automated;
  if (!automated || typeof automated !== 'object') return undefined;
  if ((automated as { enabled?: unknown }).enabled === false) return undefined;
  return automated as Record<string, unknown>;
}

/** The ApplicationSet that generated the Application, from its controller owner reference. */
export function applicationSetOf(app: GitOpsObject): string | undefined {
  return app.metadata.ownerReferences?.find((o) => o.kind === 'ApplicationSet' && o.name)?.name;
}

/**
 * Whether the ApplicationSet rewrites its Applications' specs (and so turns automated sync back
 * on). It does not with `applicationsSync: create-only | create-delete`, nor when
 * `ignoreApplicationDifferences` covers the sync policy for this Application.
 */
export function applicationSetRestoresSpec(appSet: GitOpsObject, appName: string): boolean {
  const spec = appSet.spec ?? {};
  const policy = spec['syncPolicy'] as { applicationsSync?: unknown } | undefined;
  if (policy?.applicationsSync === 'create-only' || policy?.applicationsSync === 'create-delete')
    return false;
  const ignores = (spec['ignoreApplicationDifferences'] ?? []) as Array<{
    name?: string;
    jsonPointers?: string[];
  }>;
  const covers = (p: string) =>
    p === '/spec' || p === '/spec/syncPolicy' || p === '/spec/syncPolicy/automated';
  return !ignores.some(
    (i) => (!i.name || i.name === appName) && (i.jsonPointers ?? []).some(covers),
  );
}

/** Only the boolean switches of `automated`, for a command a human can paste. */
export function automatedSwitches(automated: Record<string, unknown>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(automated)) if (typeof v === 'boolean') out[k] = v;
  return out;
}
