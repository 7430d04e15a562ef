// Writes a journal the way a long-running controller does, through the real intake and journal
// code: a steady flow of unique alert instances (each a decision plus a dedup key the state must
// keep for dedupRetentionHours), every one re-sent by Alertmanager (a duplicate decision), and a
// rollback job now and then. Used by the replay bench and the restart-under-a-heap-cap test.
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load-config.js';
import { ControllerState } from '../../src/jobs/controller-state.js';
import { takeAlerts } from '../../src/jobs/alert-intake.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { Journal } from '../../src/jobs/journal.js';
import type { JournalRecord } from '../../src/jobs/journal-record.js';
import type { AlertPayload } from '../../src/alerts/payload-schema.js';

/** One notifying rule (every unique alert is kept as an instance) and one that rolls back. */
export const FILL_CONFIG = `
rules:
  - alert: HighErrorRate
    trigger: error_rate_threshold
    confidence: high
    autoRollback: false
  - alert: CriticalErrorRate
    trigger: error_rate_threshold
    confidence: high
`;

export interface FillResult {
  bytes: number;
  records: number;
  uniqueAlerts: number;
  jobs: number;
}

/**
 * Fills `dir`/journal.jsonl to at least `bytes`, alerts spread over `spanHours` before `now` (all
 * within the default dedup retention, so replay must keep every instance: the worst case).
 */
export async function fillJournal(
  dir: string,
  bytes: number,
  o: { now: number; spanHours?: number; alertsPerNotification?: number } = { now: Date.now() },
): Promise<FillResult> {
  const parsed = parseConfigText(FILL_CONFIG, {});
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const { config, rules } = parsed;
  const state = new ControllerState();
  const journal = new Journal<JournalRecord>(dir, {
    fsync: false,
    compactAboveBytes: Number.MAX_SAFE_INTEGER,
  });
  await journal.open();
  const store = new JobStore({
    state,
    append: (records: JournalRecord[]) => journal.append(records),
    logger: pino({ enabled: false }),
  });
  const perNotification = o.alertsPerNotification ?? 5;
  // Estimate how many alerts fit, to spread them evenly over the span.
  const estimate = Math.ceil(bytes / 600);
  const stepMs = ((o.spanHours ?? 96) * 3600_000) / estimate;
  let n = 0;
  let jobs = 0;
  let id = 0;
  while (journal.bytes < bytes) {
    const at = o.now - (estimate - n) * stepMs;
    const alerts = Array.from({ length: perNotification }, (_, i) => {
      const k = n + i;
      // One alert in 500 is a rollback trigger for one of 50 workloads; the rest notify.
      const rollback = k % 500 === 0;
      return {
        status: 'firing' as const,
        labels: {
          alertname: rollback ? 'CriticalErrorRate' : 'HighErrorRate',
          severity: 'critical',
          namespace: 'shop',
          deployment: `svc-${k % 50}`,
          pod: `svc-${k % 50}-7d9f8c6b5-${(k % 9973).toString(36)}`,
        },
        annotations: { summary: `error rate above 5% on svc-${k % 50}` },
        startsAt: new Date(at - 60_000).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: `http://prometheus.example:9090/graph?g0.expr=rate%28errors%5B5m%5D%29&k=${k}`,
        fingerprint: k.toString(16).padStart(16, '0'),
      };
    });
    const payload: AlertPayload = {
      receiver: 'rollback\\-controller',
      status: 'firing',
      alerts,
      groupLabels: { alertname: 'HighErrorRate' },
      commonLabels: { severity: 'critical' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager.example:9093',
      version: '4',
      groupKey: '{}/{severity="critical"}:{alertname="HighErrorRate"}',
      truncatedAlerts: 0,
    };
    const deps = {
      store,
      rules: () => rules,
      policy: config.policy,
      cluster: config.cluster,
      newId: () => `job-${++id}`,
    };
    const first = await takeAlerts(payload, at, deps);
    jobs += first.created.length;
    // Alertmanager re-sends the group at the next group_interval: all duplicates.
    await takeAlerts(payload, at + 60_000, deps);
    n += perNotification;
  }
  const result = { bytes: journal.bytes, records: journal.records, uniqueAlerts: n, jobs };
  await journal.close();
  return result;
}
