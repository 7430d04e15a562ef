// The alert storm: 10,000 distinct firing alerts over 100 Deployments, sent as 1,000
// notifications of 10 alerts (each for 10 different workloads) over 20 concurrent connections.
// Exactly one rollback per workload must come out of it; the rest coalesce onto the running job
// or meet its cooldown. Wall time runs from the first POST until every job has finished.
import { alert, payload } from '../support/alerts.js';
import { benchWorkloads, startBenchCluster } from './bench-cluster.js';
import { AUTH, startController } from './controller-process.js';

const WORKLOADS = 100;
const ALERTS = 10_000;
const PER_NOTIFICATION = 10;
const SENDERS = 20;

export const STORM_CONFIG = `
policy:
  circuitBreaker: { maxRollbacks: 100000, windowSeconds: 600 }
queue: { concurrency: 16 }
rollout: { pollIntervalSeconds: 0.05 }
`;

export interface StormResult {
  wallMs: number;
  /** First POST → last 202. */
  ingestMs: number;
  /** CPU this process (load generator and fake cluster) used over the storm, in ms. */
  harnessCpuMs: number;
  /** Real template PATCHes received by the fake. */
  patches: number;
  /** Workloads patched at least once, and back on their v1 image at the end. */
  workloadsRolledBack: number;
  backOnV1: number;
  succeededJobs: number;
  decisions: Record<string, number>;
  non202: number;
  peakRssBytes: number;
  /** Journal size after the storm (GET /status; no compaction happens below 64 MB). */
  journalBytes: number;
  /** CPU the controller used over the storm, in ms. */
  controllerCpuMs: number;
}

function toLabels(w: { ns: string; name: string }): Record<string, string> {
  return { namespace: w.ns, deployment: w.name };
}

async function journalBytes(url: string): Promise<number> {
  const res = await fetch(`${url}/api/admin/rollback/status`, { headers: { authorization: AUTH } });
  return ((await res.json()) as { journal: { bytes: number } }).journal.bytes;
}

async function jobsSummary(url: string): Promise<{ active: number; succeeded: number }> {
  const res = await fetch(`${url}/api/admin/rollback/jobs?limit=1000`, {
    headers: { authorization: AUTH },
  });
  const { jobs } = (await res.json()) as { jobs: Array<{ state: string }> };
  return {
    active: jobs.filter((j) => ['queued', 'running'].includes(j.state)).length,
    succeeded: jobs.filter((j) => j.state === 'succeeded').length,
  };
}

export async function runStorm(stepMs: number, nodeFlags: string[] = []): Promise<StormResult> {
  const workloads = benchWorkloads('storm', WORKLOADS);
  const cluster = await startBenchCluster(workloads, stepMs);
  const controller = await startController({
    config: STORM_CONFIG,
    kubeconfig: cluster.fake.kubeconfigPath,
    nodeFlags,
  });
  const bodies: string[] = [];
  // After the bad deploy: the controller refuses to undo a revision younger than the alert.
  const startsAt = new Date().toISOString();
  for (let n = 0; n < ALERTS / PER_NOTIFICATION; n++) {
    const alerts = Array.from({ length: PER_NOTIFICATION }, (_, j) =>
      alert({
        alertname: 'CriticalErrorRate',
        startsAt,
        labels: toLabels(workloads[(n * PER_NOTIFICATION + j) % WORKLOADS]),
      }),
    );
    bodies.push(JSON.stringify(payload(alerts)));
  }
  const decisions: Record<string, number> = {};
  let non202 = 0;
  try {
    const cpuBefore = controller.cpuMs();
    const harnessBefore = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    const sender = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(`${controller.url}/api/admin/rollback/trigger`, {
          method: 'POST',
          headers: { authorization: AUTH, 'content-type': 'application/json' },
          body,
        });
        const answer = (await res.json()) as { decisions?: Array<{ decision: string }> };
        if (res.status !== 202) non202++;
        for (const d of answer.decisions ?? [])
          decisions[d.decision] = (decisions[d.decision] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    const ingestMs = performance.now() - started;
    let summary = await jobsSummary(controller.url);
    const deadline = Date.now() + 60_000;
    while (summary.active > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      summary = await jobsSummary(controller.url);
    }
    const wallMs = performance.now() - started;
    const controllerCpuMs = controller.cpuMs() - cpuBefore;
    const harness = process.cpuUsage(harnessBefore);
    const harnessCpuMs = (harness.user + harness.system) / 1000;
    await cluster.fake.settle();
    const backOnV1 = workloads.filter((w) => cluster.image(w) === `shop/${w.name}:v1`).length;
    return {
      wallMs,
      ingestMs,
      harnessCpuMs,
      patches: [...cluster.patches.values()].reduce((a, p) => a + p.length, 0),
      workloadsRolledBack: cluster.patches.size,
      backOnV1,
      succeededJobs: summary.succeeded,
      decisions,
      non202,
      peakRssBytes: controller.peakRss(),
      journalBytes: await journalBytes(controller.url),
      controllerCpuMs,
    };
  } finally {
    await controller.stop();
    await cluster.close();
  }
}
