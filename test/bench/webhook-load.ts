// Webhook throughput: /trigger with a 5-alert authenticated notification at 50 connections,
// next to a bare node:http server on the same machine, and /test dry runs with no cluster.
//
// /trigger runs with a rule that has `autoRollback: false`, so every new alert is decided
// `notify_only`: decided, journaled with fsync and answered, without the queue or a cluster in
// the way. Two bodies: unique fingerprints per request (every alert is new: decision + dedup key
// written to the journal) and the same body repeated (after the first, every alert is a
// `duplicate`: the dedup lookup, still journaled).
import { alert, payload } from '../support/alerts.js';
import { startBareServer } from './bare-server.js';
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

export interface WebhookResults {
  bare: LoadResult;
  unique: LoadResult & { journalBytes: number; peakRssBytes: number };
  repeat: LoadResult;
  dryRun: LoadResult;
}

async function journalBytes(c: ControllerProcess): Promise<number> {
  const res = await fetch(`${c.url}/api/admin/rollback/status`, {
    headers: { authorization: AUTH },
  });
  return ((await res.json()) as { journal: { bytes: number } }).journal.bytes;
}

/** `profiled(name)` gives the node flags for the controller of that run. */
export async function measureWebhook(
  durationS: number,
  profiled: (name: string) => string[],
  progress: (line: string) => void,
): Promise<WebhookResults> {
  progress(`bare node:http 202, ${CONNECTIONS} connections, ${durationS} s`);
  const bareServer = await startBareServer();
  let bare: LoadResult;
  try {
    bare = await runLoad({
      url: `${bareServer.url}/trigger`,
      body: fiveAlerts(true),
      headers: HEADERS,
      connections: CONNECTIONS,
      durationS,
      expectStatus: 202,
      unique: true,
    });
  } finally {
    await bareServer.stop();
  }

  const trigger = async (unique: boolean) => {
    const c = await startController({
      config: NOTIFY_ONLY_CONFIG,
      nodeFlags: profiled(unique ? 'trigger-unique' : 'trigger-repeat'),
    });
    try {
      const result = await runLoad({
        url: `${c.url}/api/admin/rollback/trigger`,
        body: fiveAlerts(unique),
        headers: HEADERS,
        connections: CONNECTIONS,
        durationS,
        expectStatus: 202,
        unique,
      });
      return { ...result, journalBytes: await journalBytes(c), peakRssBytes: c.peakRss() };
    } finally {
      await c.stop();
    }
  };
  progress(`/trigger, unique fingerprints, ${CONNECTIONS} connections, ${durationS} s`);
  const unique = await trigger(true);
  progress(
    `/trigger, repeated alerts (duplicate path), ${CONNECTIONS} connections, ${durationS} s`,
  );
  const repeat = await trigger(false);

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
  return { bare, unique, repeat, dryRun };
}
