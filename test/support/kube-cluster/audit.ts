// The API server's audit log (JSON lines, one event per request at ResponseComplete), read back
// to count what a user did: PATCHes of a workload, denied requests, (verb, resource) pairs.
import { existsSync, readFileSync } from 'node:fs';

export interface AuditEvent {
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    subresource?: string;
  };
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestObject?: unknown;
  stageTimestamp: string;
}

/** The audit policy: the simulated kubelets and control-plane components are left out. */
export function auditPolicy(quietUsers: string[]): string {
  return JSON.stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      { level: 'None', users: quietUsers },
      { level: 'None', nonResourceURLs: ['/healthz*', '/readyz*', '/livez*'] },
      // Request bodies of writes to workloads (Argo Rollouts' too), so a template PATCH can be told
      // from the rest.
      {
        level: 'Request',
        verbs: ['patch', 'update', 'create'],
        resources: [{ group: 'apps' }, { group: 'argoproj.io', resources: ['rollouts'] }],
      },
      { level: 'Metadata' },
    ],
  });
}

export interface AuditFilter {
  user?: string;
  verb?: string;
  /** Plural resource name, e.g. deployments; with a subresource as `deployments/status`. */
  resource?: string;
  namespace?: string;
  name?: string;
}

export interface AuditLog {
  path: string;
  /** Every event so far (the file is re-read on each call). */
  events(filter?: AuditFilter): AuditEvent[];
  /** PATCH (or PUT) requests to a workload that changed its pod template (dry runs left out). */
  templateWrites(filter: AuditFilter): AuditEvent[];
  /** Requests answered 403 Forbidden. */
  denied(filter?: AuditFilter): AuditEvent[];
  /** The set of `verb group/resource[/subresource]` a user used, sorted. */
  verbsUsed(user: string): string[];
}

export function resourceOf(e: AuditEvent): string {
  const r = e.objectRef;
  if (!r?.resource) return '';
  const group = r.apiGroup ?? '';
  return `${group}/${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
}

function matches(e: AuditEvent, f: AuditFilter): boolean {
  if (f.user !== undefined && e.user.username !== f.user) return false;
  if (f.verb !== undefined && e.verb !== f.verb) return false;
  if (f.namespace !== undefined && e.objectRef?.namespace !== f.namespace) return false;
  if (f.name !== undefined && e.objectRef?.name !== f.name) return false;
  if (f.resource !== undefined) {
    const r = e.objectRef;
    const full = r?.resource ? `${r.resource}${r.subresource ? `/${r.subresource}` : ''}` : '';
    if (full !== f.resource) return false;
  }
  return true;
}

/** Whether a request body (strategic/merge patch, JSON patch or a whole object) sets spec.template. */
export function touchesTemplate(body: unknown): boolean {
  if (Array.isArray(body))
    return body.some((op) => typeof op?.path === 'string' && op.path.startsWith('/spec/template'));
  const spec = (body as { spec?: Record<string, unknown> } | undefined)?.spec;
  return !!spec && 'template' in spec;
}

export function auditLog(path: string): AuditLog {
  const events = (filter: AuditFilter = {}): AuditEvent[] => {
    if (!existsSync(path)) return [];
    const out: AuditEvent[] = [];
    const lines = readFileSync(path, 'utf8').split('\n');
    // The API server may be writing the last line right now: only newline-ended lines are whole.
    lines.pop();
    for (const line of lines) {
      if (!line) continue;
      const e = JSON.parse(line) as AuditEvent;
      if (matches(e, filter)) out.push(e);
    }
    return out;
  };
  return {
    path,
    events,
    templateWrites: (f) =>
      events(f).filter(
        (e) =>
          (e.verb === 'patch' || e.verb === 'update') &&
          !e.objectRef?.subresource &&
          !/[?&]dryRun=/.test(e.requestURI) &&
          (e.responseStatus?.code ?? 0) < 300 &&
          touchesTemplate(e.requestObject),
      ),
    denied: (f = {}) => events(f).filter((e) => e.responseStatus?.code === 403),
    verbsUsed: (user) =>
      [
        ...new Set(
          events({ user })
            .filter((e) => e.objectRef?.resource)
            .map((e) => `${e.verb} ${resourceOf(e)}`),
        ),
      ].sort(),
  };
}
