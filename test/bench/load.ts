// autocannon's programmatic API, reduced to the figures the bench reports.
import autocannon from 'autocannon';

export interface LoadResult {
  /** Answers with the expected status per second over the run. */
  rps: number;
  p50: number;
  p99: number;
  /** Answers with any other status, plus connection errors and timeouts. */
  bad: number;
  total: number;
  statuses: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  expectStatus: number;
  /** Replace each `[<id>]` in the body with a fresh id per request. */
  unique?: boolean;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: o.url,
    method: 'POST',
    body: o.body,
    headers: o.headers,
    connections: o.connections,
    duration: o.durationS,
    idReplacement: o.unique ?? false,
    timeout: 10,
  });
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {}))
    statuses[code] = s.count ?? 0;
  const good = statuses[String(o.expectStatus)] ?? 0;
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    rps: good / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad: total - good + result.errors + result.timeouts,
    total,
    statuses,
  };
}
