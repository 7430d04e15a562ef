// `?watch=true`: a chunked stream of newline-delimited {"type","object"} events. From an explicit
// resourceVersion the stream replays later changes; without one (or "0") it starts with ADDED
// for every current object. Objects moving in or out of the selector show up as ADDED/DELETED,
// as the real watch cache reports them.
import type { ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.js';
import { failureStatus } from './status.js';
import type { Change, Store } from './store.js';
import type { KubeObject } from './types.js';

export interface WatchOptions {
  ns?: string;
  matches: (object: KubeObject) => boolean;
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
  timeoutSeconds?: number;
}

export function serveWatch(
  res: ServerResponse,
  store: Store,
  type: ResourceType,
  opts: WatchOptions,
  open: Set<ServerResponse>,
): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const inScope = (o: KubeObject | undefined): o is KubeObject =>
    !!o && (opts.ns === undefined || o.metadata.namespace === opts.ns) && opts.matches(o);
  const send = (eventType: string, object: unknown) =>
    res.write(`${JSON.stringify({ type: eventType, object })}\n`);
  const forward = (change: Change) => {
    if (change.resource !== type) return;
    const now = inScope(change.object);
    const before = change.type === 'MODIFIED' ? inScope(change.previous) : now;
    if (change.type === 'MODIFIED' && now !== before)
      send(now ? 'ADDED' : 'DELETED', change.object);
    else if (now) send(change.type, change.object);
  };

  const rv = opts.resourceVersion;
  if (opts.sendInitialEvents || !rv || rv === '0') {
    for (const object of store.list(type, opts.ns)) if (opts.matches(object)) send('ADDED', object);
    if (opts.sendInitialEvents && opts.allowBookmarks) {
      send('BOOKMARK', {
        kind: type.kind,
        apiVersion: apiVersionOf(type),
        metadata: {
          resourceVersion: store.resourceVersion,
          annotations: { 'k8s.io/initial-events-end': 'true' },
        },
      });
    }
  } else {
    const changes = store.changesSince(type, Number(rv));
    if (!changes) {
      send(
        'ERROR',
        failureStatus(410, 'Expired', `too old resource version: ${rv} (${store.oldestWatchable})`),
      );
      res.end();
      return;
    }
    changes.forEach(forward);
  }

  const unsubscribe = store.subscribe(forward);
  open.add(res);
  const timer = opts.timeoutSeconds
    ? setTimeout(() => res.end(), opts.timeoutSeconds * 1000)
    : undefined;
  res.on('close', () => {
    unsubscribe();
    clearTimeout(timer);
    open.delete(res);
  });
}
