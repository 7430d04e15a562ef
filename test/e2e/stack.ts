// What every end-to-end test builds: the real controller (in-process, pointed at the fake
// cluster), a recording proxy in front of its webhook, a Deployment rolled from v1 to v2, and the
// ways a user checks the outcome (template image, PATCH requests, jobs, metrics).
import type { TestContext } from 'node:test';
import {
  startAlertmanager,
  type Alertmanager,
  type AlertmanagerOptions,
} from '../support/alertmanager.js';
import type { FakeKube } from '../support/fake-kube/index.js';
import { sampleValue } from '../support/prometheus.js';
import { SECRET, startTestServer, type TestServer } from '../support/server.js';
import { nextWholeSecond, until } from '../support/until.js';
import { startWebhookProxy, type WebhookProxy } from './webhook-proxy.js';

export const NAMESPACE = 'shop';
export const TRIGGER_PATH = '/api/admin/rollback/trigger';
export { SECRET };

/** Fast rollouts, a breaker that stays out of the way, and a verification window tests can tune. */
export function controllerConfig(o: { verificationWindowSeconds?: number } = {}): string {
  return [
    'rollout: { pollIntervalSeconds: 0.05, deadlineSeconds: 30 }',
    'policy: { circuitBreaker: { maxRollbacks: 100, windowSeconds: 600 } }',
    `verification: { windowSeconds: ${o.verificationWindowSeconds ?? 60} }`,
  ].join('\n');
}

export interface ControllerUnderTest {
  server: TestServer;
  proxy: WebhookProxy;
  /** Where Alertmanager posts: the proxy, then the controller's canonical /trigger. */
  webhookUrl: string;
}

/** Runs `close` when the test ends, pass or fail; later registrations close first. */
export function cleanup(t: TestContext): (close: () => Promise<void>) => void {
  const closers: Array<() => Promise<void>> = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  });
  return (close) => closers.push(close);
}

export async function startController(
  defer: (close: () => Promise<void>) => void,
  fake: FakeKube,
  o: { configText?: string; env?: Record<string, string> } = {},
): Promise<ControllerUnderTest> {
  const server = await startTestServer({
    env: { KUBECONFIG: fake.kubeconfigPath, ...o.env },
    configText: o.configText ?? controllerConfig(),
  });
  defer(() => server.close());
  const proxy = await startWebhookProxy(server.url);
  defer(() => proxy.close());
  return { server, proxy, webhookUrl: `${proxy.url}${TRIGGER_PATH}` };
}

/** A Deployment deployed at v1, then v2 (revision 2), settled: the state an alert rolls back. */
export async function deployV1ThenV2(fake: FakeKube, name: string): Promise<void> {
  await fake.createDeployment(NAMESPACE, name, {
    image: `registry.example/${name}:v1`,
    replicas: 2,
  });
  await fake.settle();
  await fake.setImage('Deployment', NAMESPACE, name, `registry.example/${name}:v2`);
  await fake.settle();
  await nextWholeSecond();
}

export function imageOf(fake: FakeKube, name: string): string {
  return fake.get('Deployment', NAMESPACE, name).spec.template.spec.containers[0].image;
}

/** The PATCH requests that changed the Deployment's pod template: one per rollback. */
export function templatePatches(fake: FakeKube, name: string) {
  return fake.requests.filter(
    (r) =>
      r.method === 'PATCH' &&
      r.path === `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${name}` &&
      !String(r.query['dryRun'] ?? '').includes('All') &&
      JSON.stringify(r.body ?? '').includes('template'),
  );
}

/** Waits for the Deployment to be back on v1 with the rollout finished. */
export async function rolledBack(fake: FakeKube, name: string, timeoutMs = 10_000): Promise<void> {
  await fake.waitFor(
    'Deployment',
    NAMESPACE,
    name,
    (d) =>
      d.spec.template.spec.containers[0].image === `registry.example/${name}:v1` &&
      d.status?.updatedReplicas === d.spec.replicas &&
      d.status?.readyReplicas === d.spec.replicas,
    timeoutMs,
  );
}

/** Critical alert labels for the Deployment, as the shipped rules expect them. */
export function alertLabels(
  name: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    alertname: 'CriticalErrorRate',
    severity: 'critical',
    namespace: NAMESPACE,
    deployment: name,
    ...extra,
  };
}

/** Every decision the controller answered Alertmanager with, in order, with the alert's status. */
export function decisions(proxy: WebhookProxy) {
  return proxy.exchanges.flatMap((e) =>
    e.status === 202
      ? (e.answer.decisions as Array<{ decision: string; status: string; fingerprint: string }>)
      : [],
  );
}

export async function jobsFor(server: TestServer, name: string): Promise<any[]> {
  const res = await server.request('GET', 'jobs');
  if (res.status !== 200) throw new Error(`GET jobs: ${res.status}`);
  const jobs = (res.body.jobs ?? res.body) as any[];
  return jobs.filter((j) => j.target?.name === name);
}

/** The single job for the Deployment, once `ready(job)` holds. */
export async function jobWhen(
  server: TestServer,
  name: string,
  ready: (job: any) => boolean,
  timeoutMs = 10_000,
  what = 'job state',
): Promise<any> {
  let job: any;
  await until(
    async () => {
      const jobs = await jobsFor(server, name);
      job = jobs[0];
      return jobs.length === 1 && ready(job);
    },
    timeoutMs,
    `${what} for ${name}`,
  );
  return job;
}

export async function controllerMetric(
  server: TestServer,
  metric: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`${server.url}/metrics`);
  return sampleValue(await res.text(), metric, labels);
}

export interface Stack extends ControllerUnderTest {
  am: Alertmanager;
  defer: (close: () => Promise<void>) => void;
}

/**
 * A Deployment at v2, the controller, and one Alertmanager posting to it with the right
 * credentials (unless `am` overrides them). Everything stops when the test ends.
 */
export async function startStack(
  t: TestContext,
  fake: FakeKube,
  name: string,
  o: {
    am?: Partial<AlertmanagerOptions>;
    configText?: string;
    env?: Record<string, string>;
  } = {},
): Promise<Stack> {
  const defer = cleanup(t);
  await deployV1ThenV2(fake, name);
  const ctl = await startController(defer, fake, {
    ...(o.configText ? { configText: o.configText } : {}),
    ...(o.env ? { env: o.env } : {}),
  });
  const am = await startAlertmanager({ webhookUrl: ctl.webhookUrl, password: SECRET, ...o.am });
  defer(() => am.stop());
  return { ...ctl, am, defer };
}

/**
 * Waits for a controller metric to reach `value`: metrics follow the job's state by a moment
 * (the state is visible on /jobs before the counters move).
 */
export async function metricReaches(
  server: TestServer,
  metric: string,
  labels: Record<string, string>,
  value: number,
): Promise<void> {
  let last = NaN;
  await until(
    async () => (last = await controllerMetric(server, metric, labels)) === value,
    3000,
    `${metric}${JSON.stringify(labels)} = ${value} (last ${last})`,
  );
}
