// A rollback planned from the watch cache whose PATCH failed its resourceVersion test: the
// workload changed since the cache saw it. execute() then plans the whole rollback again from
// direct reads (owners included: the fresh workload may name a GitOps owner the cached one did
// not), rather than only re-reading the workload as a plan from a direct read does.
export class StaleCacheError extends Error {
  override readonly name = 'StaleCacheError';
  constructor() {
    super('the watch cache was behind the workload: planning again from the API server');
  }
}
