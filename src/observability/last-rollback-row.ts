// One row per workload of the dashboard's "what was rolled back" table: its last rollback (time,
// from → to revision, outcome, verdict) and its time to restore. One series per workload, replaced
// on each change, so the labels stay bounded by the workloads the controller rolled back.
import type { Job } from '../model/job.js';
import type { Metrics } from './metrics.js';

type Row = Record<
  'namespace' | 'workload' | 'kind' | 'from_revision' | 'to_revision' | 'outcome' | 'verdict',
  string
>;

export function recordLastRollbackRow(
  metrics: Pick<Metrics, 'lastRollbackInfo' | 'lastTimeToRestore' | 'lastRollbackRows'>,
  job: Job,
): void {
  if (!job.target || !job.outcome || !job.finishedAt) return;
  const key = `${job.target.namespace}/${job.target.name}`;
  const row: Row = {
    namespace: job.target.namespace,
    workload: job.target.name,
    kind: job.target.kind,
    from_revision: job.fromRevision === undefined ? '' : String(job.fromRevision),
    to_revision: job.toRevision === undefined ? '' : String(job.toRevision),
    outcome: job.outcome,
    verdict: job.verdict ?? 'none',
  };
  const previous = metrics.lastRollbackRows.get(key);
  if (previous) metrics.lastRollbackInfo.remove(previous);
  metrics.lastRollbackRows.set(key, row);
  const finished = Date.parse(job.finishedAt);
  metrics.lastRollbackInfo.set(row, finished / 1000);
  const where = { namespace: row.namespace, workload: row.workload, kind: row.kind };
  const start = Date.parse(job.alert.startsAt);
  const restored =
    job.verdict === 'recovered'
      ? finished + (job.recoverySeconds ?? 0) * 1000
      : job.outcome === 'succeeded'
        ? finished
        : undefined;
  if (restored !== undefined && Number.isFinite(start) && restored >= start)
    metrics.lastTimeToRestore.set(where, (restored - start) / 1000);
  else metrics.lastTimeToRestore.remove(where);
}
