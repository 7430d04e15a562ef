// Alert-to-patch on the real control plane, next to the real `kubectl rollout undo` on the same
// cluster in the same run. The controller (dist/main.js, its own ServiceAccount) gets one alert
// at a time for a Deployment that has just rolled out a new bad image; the sample is the time
// from sending the POST to the API server finishing the template PATCH (the audit event's
// stageTimestamp). kubectl's sample is the wall time of the whole command (spawn to exit, a
// warm discovery cache), the way an on-call human or a script runs it.
import { startKubeCluster } from '../support/kube-cluster/index.js';
import { controllerIdentity } from '../cluster/support.js';
import { LATENCY_CONFIG } from './alert-to-patch.js';
import { AUTH, startController } from './controller-process.js';
import { sendAlert } from './send-alert.js';

const NS = 'bench';
const NAME = 'svc';

export interface RealClusterResult {
  /** Alert POST sent → template PATCH done, ms (planning from the watch cache). */
  controller: number[];
  /** The same with `watchCache.enabled: false` (every planning read direct). */
  uncached: number[];
  /** `kubectl rollout undo` wall time, ms. */
  kubectl: number[];
  failures: string[];
}

/** An audit timestamp (RFC 3339 with microseconds) in epoch ms, keeping the fraction. */
function auditMs(ts: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(ts);
  if (!m) throw new Error(`not an audit timestamp: ${ts}`);
  return Date.parse(`${m[1]}Z`) + Number(m[2] ?? 0) * 1000;
}

async function jobDone(url: string, id: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/api/admin/rollback/jobs/${id}`, {
      headers: { authorization: AUTH },
    });
    const job = (await res.json()) as { state: string; reason?: string };
    if (['succeeded', 'failed', 'skipped', 'expired'].includes(job.state))
      return job.state === 'succeeded' ? job.state : `${job.state}: ${job.reason}`;
    if (Date.now() > deadline) return `still ${job.state} after ${timeoutMs} ms`;
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function measureRealCluster(
  rollbacks: number,
  uncachedRollbacks: number,
  kubectlRuns: number,
  log: (line: string) => void,
): Promise<RealClusterResult> {
  const t0 = performance.now();
  const cluster = await startKubeCluster({ readyDelayMs: 50, nodes: ['bench-node'] });
  log(`real control plane up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const result: RealClusterResult = { controller: [], uncached: [], kubectl: [], failures: [] };
  const { kubeconfig, user } = await controllerIdentity(cluster, 'rc-bench');
  let controller = await startController({ config: LATENCY_CONFIG, kubeconfig });
  let version = 0;
  const deployBad = async () => {
    await cluster.setImage('Deployment', NS, NAME, `shop/${NAME}:bad-${++version}`);
    await cluster.waitRolledOut('Deployment', NS, NAME);
  };
  try {
    await cluster.createNamespace(NS);
    await cluster.createWorkload('Deployment', NS, NAME, { image: `shop/${NAME}:v1` });
    await cluster.waitRolledOut('Deployment', NS, NAME);
    const alerts = async (count: number, samples: number[]) => {
      for (let i = 0; i < count && result.failures.length < 5; i++) {
        await deployBad();
        const before = cluster.audit.templateWrites({ user, name: NAME }).length;
        // Wall clock, as the audit log's timestamps (same machine, same clock).
        const r = await sendAlert(controller.url, NS, NAME, () => Date.now());
        if ('failure' in r) {
          result.failures.push(`alert ${i}: ${r.failure}`);
          continue;
        }
        const state = await jobDone(controller.url, r.jobId, 60_000);
        if (state !== 'succeeded') result.failures.push(`alert ${i}: job ${state}`);
        const writes = cluster.audit.templateWrites({ user, name: NAME });
        if (writes.length !== before + 1) {
          result.failures.push(`alert ${i}: ${writes.length - before} template PATCHes`);
          continue;
        }
        samples.push(auditMs(writes.at(-1)!.stageTimestamp) - r.sent);
        await cluster.waitRolledOut('Deployment', NS, NAME);
      }
    };
    await alerts(rollbacks, result.controller);
    await controller.stop();
    controller = await startController({
      config: `${LATENCY_CONFIG}\nwatchCache: { enabled: false }\n`,
      kubeconfig,
    });
    await alerts(uncachedRollbacks, result.uncached);
    for (let i = 0; i < kubectlRuns; i++) {
      await deployBad();
      const started = performance.now();
      await cluster.kubectl(['rollout', 'undo', `deployment/${NAME}`, '-n', NS]);
      result.kubectl.push(performance.now() - started);
      await cluster.waitRolledOut('Deployment', NS, NAME);
    }
    return result;
  } finally {
    await controller.stop();
    await cluster.stop();
  }
}
