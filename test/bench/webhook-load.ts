// Webhook throughput: /trigger with a 5-alert authenticated notification at 1, 10 and 50
// connections, each next to a bare durable node:http webhook (group-commit fdatasync) and the same
// without fsync (bare-server.ts), plus a bare server that writes nothing, the duplicate path and
// /test dry runs with no cluster.
//
// /trigger runs with a rule that has `autoRollback: false`, so every new alert is decided
// `notify_only`: decided, journaled with fsync and answered, without the queue or a cluster in
// the way. Two bodies: unique fingerprints per request (every alert is new: decision + dedup key
// written to the journal) and the same body repeated (after the first, every alert is a
// `duplicate`: the dedup lookup, still journaled).
import { alert, payload } from '../support/alerts.js';
import { startBareServer, type BareMode } from './bare-server.js';
import { AUTH, startController, type ControllerProcess } from './controller-process.js';
import { runLoad, type LoadResult } from './load.js';

export const NOTIFY_ONLY_CONFIG = `
rules:
  - alert: CriticalErrorRate
    trigger: error_rate_threshold
    confidence: high
    autoRollback: false
`;

const CONNECTIONS = 50;
const HEADERS = { authorization: AUTH, 'content-type': 'application/json' };

/** Five alerts for five workloads; `[<id>]` is replaced per request when `unique`. */
function fiveAlerts(unique: boolean): string {
  const alerts = Array.from({ length: 5 }, (_, i) =>
    alert({
      alertname: 'CriticalErrorRate',
      labels: { namespace: 'shop', deployment: `checkout-${i}` },
      ...(unique ? { fingerprint: `[<id>]` } : { fingerprint: `repeat${i}` }),
    }),
  );
  return JSON.stringify(payload(alerts));
}

/** One connection count: the controller's /trigger (unique alerts) next to the bare floors. */
export interface IntakeStep {
  connections: number;
  controller: LoadResult;
  durable: LoadResult;
  noFsync: LoadResult;
}

export interface WebhookResults {
  bare: LoadResult;
  unique: LoadResult & { journalBytes: number; peakRssBytes: number };
  repeat: LoadResult;
  dryRun: LoadResult;
  /** Unique alerts at 1, 10 and 50 connections next to the bare durable and no-fsync servers. */
  intake: IntakeStep[];
}

export const INTAKE_CONNECTIONS = [1, 10, 50];

async function journalBytes(c: ControllerProcess): Promise<number> {
  const res = await fetch(`${c.url}/api/admin/rollback/status`, {
    headers: { authorization: AUTH },
  });
  return ((await res.json()) as { journal: { bytes: number } }).journal.bytes;
}

const loadOn = (url: string, connections: number, durationS: number, unique: boolean) =>
  runLoad({
    url,
    body: fiveAlerts(unique),
    headers: HEADERS,
    connections,
    durationS,
    expectStatus: 202,
    unique,
  });

async function onBare(mode: BareMode, connections: number, durationS: number): Promise<LoadResult> {
  const server = await startBareServer(mode);
  try {
    return await loadOn(`${server.url}/trigger`, connections, durationS, true);
  } finally {
    await server.stop();
  }
}

/** `profiled(name)` gives the node flags for the controller of that run. */
export async function measureWebhook(
  durationS: number,
  profiled: (name: string) => string[],
  progress: (line: string) => void,
): Promise<WebhookResults> {
  progress(`bare node:http 202, ${CONNECTIONS} connections, ${durationS} s`);
  const bare = await onBare('plain', CONNECTIONS, durationS);

  const trigger = async (unique: boolean, connections: number) => {
    const c = await startController({
      config: NOTIFY_ONLY_CONFIG,
      nodeFlags: profiled(`trigger-${unique ? 'unique' : 'repeat'}-${connections}`),
    });
    try {
      const url = `${c.url}/api/admin/rollback/trigger`;
      const result = await loadOn(url, connections, durationS, unique);
      return { ...result, journalBytes: await journalBytes(c), peakRssBytes: c.peakRss() };
    } finally {
      await c.stop();
    }
  };
  // Interleaved per connection count, so a change in the machine's load hits all three alike.
  const intake: IntakeStep[] = [];
  for (const connections of INTAKE_CONNECTIONS) {
    progress(`intake at ${connections} connections: /trigger, bare durable, bare no-fsync`);
    intake.push({
      connections,
      controller: await trigger(true, connections),
      durable: await onBare('durable', connections, durationS),
      noFsync: await onBare('no-fsync', connections, durationS),
    });
  }
  const unique = intake.at(-1)!.controller as WebhookResults['unique'];
  progress(
    `/trigger, repeated alerts (duplicate path), ${CONNECTIONS} connections, ${durationS} s`,
  );
  const repeat = await trigger(false, CONNECTIONS);
  const dryRunS = Math.max(1, Math.round(durationS / 2));
  progress(`/test dry run, no cluster, ${CONNECTIONS} connections, ${dryRunS} s`);
  const c = await startController({ nodeFlags: profiled('dry-run') });
  let dryRun: LoadResult;
  try {
    dryRun = await runLoad({
      url: `${c.url}/api/admin/rollback/test`,
      body: JSON.stringify({
        alert_name: 'CriticalErrorRate',
        labels: { severity: 'critical', namespace: 'shop', deployment: 'checkout' },
      }),
      headers: HEADERS,
      connections: CONNECTIONS,
      durationS: dryRunS,
      expectStatus: 200,
    });
  } finally {
    await c.stop();
  }
  return { bare, unique, repeat, dryRun, intake };
}
