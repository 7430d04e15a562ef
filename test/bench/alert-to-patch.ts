// Alert-to-patch latency on loopback with an idle queue: one alert at a time, timed from sending
// the POST to the fake API server receiving the template PATCH. Each alert goes out only after
// the previous job has finished and a new bad image was deployed to the same Deployment (the
// controller refuses to roll back its own rollback); cooldown 0. One workload keeps the fake's
// own work per step negligible.
import { benchWorkloads, startBenchCluster } from './bench-cluster.js';
import { AUTH, startController } from './controller-process.js';
import { sendAlert } from './send-alert.js';

export const LATENCY_CONFIG = `
policy:
  cooldownSeconds: 0
  circuitBreaker: { maxRollbacks: 100000, windowSeconds: 600 }
rollout: { pollIntervalSeconds: 0.05 }
`;

export interface LatencyResult {
  samples: number[];
  failures: string[];
  /** CPU the controller used over the run, in ms. */
  controllerCpuMs: number;
}

async function waitJobDone(url: string, id: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/api/admin/rollback/jobs/${id}`, {
      headers: { authorization: AUTH },
    });
    const job = (await res.json()) as { state: string };
    if (['succeeded', 'failed', 'skipped', 'expired'].includes(job.state)) return job.state;
    if (Date.now() > deadline) return `still ${job.state} after ${timeoutMs} ms`;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function measureAlertToPatch(
  count: number,
  nodeFlags: string[] = [],
): Promise<LatencyResult> {
  const [w] = benchWorkloads('latency', 1);
  const { ns, name } = w;
  const cluster = await startBenchCluster([w], 5);
  const controller = await startController({
    config: LATENCY_CONFIG,
    kubeconfig: cluster.fake.kubeconfigPath,
    nodeFlags,
  });
  const samples: number[] = [];
  const failures: string[] = [];
  const cpuBefore = controller.cpuMs();
  try {
    for (let i = 0; i < count && failures.length < 5; i++) {
      await cluster.fake.setImage('Deployment', ns, name, `shop/${name}:bad-${i}`);
      await cluster.fake.settle();
      const patched = cluster.nextPatch(ns, name);
      const r = await sendAlert(controller.url, ns, name, () => performance.now());
      if ('failure' in r) {
        failures.push(`alert ${i}: ${r.failure}`);
        continue;
      }
      const at = await Promise.race([
        patched,
        new Promise<undefined>((ok) => setTimeout(ok, 5000, undefined)),
      ]);
      if (at === undefined) failures.push(`alert ${i}: no PATCH within 5 s`);
      else samples.push(at - r.sent);
      const state = await waitJobDone(controller.url, r.jobId, 10_000);
      if (state !== 'succeeded') failures.push(`alert ${i}: job ${state}`);
    }
    return { samples, failures, controllerCpuMs: controller.cpuMs() - cpuBefore };
  } finally {
    await controller.stop();
    await cluster.close();
  }
}
