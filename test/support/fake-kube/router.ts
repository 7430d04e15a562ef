// HTTP front: records each request, applies injected faults, then maps the REST paths
// (/api/v1/..., /apis/<group>/<version>/...) onto discovery documents or registry verbs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { managerOf } from './managed-fields.js';
import { apiGroup, coreVersions, groupList, resourceList, versionInfo } from './discovery.js';
import type { Faults } from './faults.js';
import { patchTypes, type PatchType } from './patch.js';
import type { Registry } from './registry.js';
import { apiVersionOf, findResource, type ResourceType } from './resources.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import { failureStatus, reasonFor, statusFromError, successStatus } from './status.js';
import { toTable, wantsTable } from './table.js';
import { ApiError, type KubeObject, type RecordedRequest } from './types.js';
import { serveWatch } from './watch.js';

export interface RouterContext {
  registry: Registry;
  faults: Faults;
  requests: RecordedRequest[];
  serverAddress: () => string;
  watches: Set<ServerResponse>;
}

const maxBody = 3 * 1024 * 1024;

export function createRouter(ctx: RouterContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-kube');
    const method = (req.method ?? 'GET').toUpperCase();
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      req.socket.destroy();
      return;
    }
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
    };
    if (contentType) recorded.contentType = contentType;
    if (raw) recorded.body = parseOr(raw);
    ctx.requests.push(recorded);

    const fault = ctx.faults.take(method, url.pathname, url.searchParams.get('dryRun') === 'All');
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.untilClientGone && !req.socket.destroyed)
      await new Promise((resolve) => req.socket.once('close', resolve));
    if (fault?.dropConnection) {
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      const code = fault.status;
      send(
        res,
        code,
        fault.body ??
          failureStatus(code, reasonFor(code), `injected fault: ${code} ${reasonFor(code)}`),
      );
      return;
    }
    try {
      handle(ctx, req, res, url, method, contentType, raw);
    } catch (error) {
      if (error instanceof ApiError) send(res, error.code, statusFromError(error));
      else send(res, 500, failureStatus(500, 'InternalError', `fake-kube: ${String(error)}`));
    }
  };
}

function handle(
  ctx: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  contentType: string | undefined,
  raw: string,
): void {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  if (method === 'GET') {
    const doc = discovery(ctx, path, parts);
    if (doc !== undefined) return send(res, 200, doc);
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') [group, version, rest] = ['', 'v1', parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3)
    [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

  // namespaces/<ns>/<resource>[/<name>[/<sub>]], unless it is a Namespace itself.
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2])) {
    ns = rest[1];
    rest = rest.slice(2);
  }
  const [resourceName, name, subresource] = rest;
  const type = resourceName ? findResource(group, version, resourceName) : undefined;
  if (!type || rest.length > 3 || (subresource && subresource !== 'status')) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (type.namespaced && name !== undefined && ns === undefined) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  const scopeNs = type.namespaced ? (ns ?? '') : '';
  const q = url.searchParams;
  const dryRun = q.get('dryRun') === 'All';
  if (q.has('dryRun') && !dryRun) {
    throw new ApiError(
      400,
      'BadRequest',
      `Invalid dry run value: ${q.get('dryRun')}: valid values are All`,
    );
  }
  const opts = {
    dryRun,
    ...(subresource ? { subresource } : {}),
    manager: managerOf(q.get('fieldManager'), req.headers['user-agent']),
  };
  const { registry } = ctx;

  if (name === undefined) {
    if (method === 'GET') return list(ctx, req, res, type, type.namespaced ? ns : undefined, q);
    if (method === 'POST') {
      if (type.namespaced && ns === undefined)
        throw new ApiError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
      return send(res, 201, registry.create(type, scopeNs, body(raw, contentType, false), opts));
    }
    throw new ApiError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  }

  switch (method) {
    case 'GET': {
      const object = registry.get(type, scopeNs, name);
      return send(
        res,
        200,
        wantsTable(req.headers.accept)
          ? toTable(type, [object], object.metadata.resourceVersion)
          : object,
      );
    }
    case 'PUT':
      return send(
        res,
        200,
        registry.update(type, scopeNs, name, body(raw, contentType, false), opts),
      );
    case 'PATCH': {
      if (!patchTypes.includes(contentType as PatchType)) {
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ${patchTypes.join(', ')}`,
        );
      }
      return send(
        res,
        200,
        registry.patch(
          type,
          scopeNs,
          name,
          body(raw, contentType, true),
          contentType as PatchType,
          opts,
        ),
      );
    }
    case 'DELETE': {
      const options = (raw ? body(raw, contentType, false) : {}) as {
        preconditions?: { uid?: string; resourceVersion?: string };
        propagationPolicy?: string;
        dryRun?: string[];
      };
      const deleted = registry.delete(type, scopeNs, name, {
        dryRun: dryRun || (options.dryRun ?? []).includes('All'),
        orphan: (q.get('propagationPolicy') ?? options.propagationPolicy) === 'Orphan',
        ...(options.preconditions ? { preconditions: options.preconditions } : {}),
      });
      return send(
        res,
        200,
        successStatus({ name, group: type.group, kind: type.name, uid: deleted.metadata.uid }),
      );
    }
    default:
      throw new ApiError(
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
      );
  }
}

function list(
  ctx: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
  type: ResourceType,
  ns: string | undefined,
  q: URLSearchParams,
): void {
  const labels = parseLabelSelector(q.get('labelSelector') ?? '');
  const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
  const matches = (o: KubeObject) =>
    matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o);
  if (q.get('watch') === 'true' || q.get('watch') === '1') {
    const rv = q.get('resourceVersion');
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    return serveWatch(
      res,
      ctx.registry.store,
      type,
      {
        matches,
        ...(ns !== undefined ? { ns } : {}),
        ...(rv ? { resourceVersion: rv } : {}),
        sendInitialEvents: q.get('sendInitialEvents') === 'true',
        allowBookmarks: q.get('allowWatchBookmarks') === 'true',
        ...(timeout > 0 ? { timeoutSeconds: timeout } : {}),
      },
      ctx.watches,
    );
  }
  const resourceVersion = ctx.registry.store.resourceVersion;
  const items = ctx.registry.store.list(type, ns).filter(matches);
  if (wantsTable(req.headers.accept)) return send(res, 200, toTable(type, items, resourceVersion));
  send(res, 200, {
    kind: `${type.kind}List`,
    apiVersion: apiVersionOf(type),
    metadata: { resourceVersion },
    items,
  });
}

function discovery(ctx: RouterContext, path: string, parts: string[]): unknown {
  if (path === '/version') return versionInfo;
  if (path === '/healthz' || path === '/livez' || path === '/readyz') return 'ok';
  if (path === '/api') return coreVersions(ctx.serverAddress());
  if (path === '/apis') return groupList();
  if (path === '/api/v1') return resourceList('', 'v1');
  if (parts[0] === 'apis' && parts.length === 2) return apiGroup(parts[1]);
  if (parts[0] === 'apis' && parts.length === 3) return resourceList(parts[1], parts[2]);
  return undefined;
}

function body(raw: string, contentType: string | undefined, patch: boolean): unknown {
  if (!patch && contentType && contentType !== 'application/json') {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json`,
    );
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ApiError(400, 'BadRequest', `the request body is not valid JSON`);
  }
}

function parseOr(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function send(res: ServerResponse, code: number, payload: unknown): void {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  res.writeHead(code, {
    'Content-Type': typeof payload === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
