// Controller processes (src/main.ts) on one Lease of a fake API server, each with its own data
// dir and a Pod of its name at 127.0.0.1 (followers forward only to the holder's own pod address):
// what the HA tests start, stop and restart.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { firing, payload } from './alerts.js';
import type { FakeKube } from './fake-kube/index.js';
import { freePort } from './prometheus.js';
import { basic, OPERATOR_SECRET, SECRET } from './server.js';
import { until } from './until.js';
import { compiledEntry } from './compiled-entry.js';

export interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export const WEBHOOK_AUTH = basic('alertmanager', SECRET);
export const OPERATOR_AUTH = basic('operator', OPERATOR_SECRET);

/**
 * Every wait in the HA tests is for an observable condition; its deadline only stops a hung
 * test, so it is as long as the test's own budget allows, not a guess at how fast this machine is.
 */
export const HANG_GUARD_MS = 120_000;

export interface ReplicaSet {
  /** Starts (or restarts, same name and data dir: a new process) a replica on a Lease. */
  start(name: string, leaseName: string, env?: Record<string, string>): Promise<Replica>;
  /** Starts two replicas and waits until one of them leads and the other forwards to it. */
  electedPair(
    a: string,
    b: string,
    leaseName: string,
  ): Promise<{ leader: Replica; follower: Replica }>;
  /** Every replica started, for the logs of a failed test. */
  all: Replica[];
  killAll(): Promise<void>;
}

export async function readyz(r: Replica): Promise<{ status: number; leader: string }> {
  const res = await fetch(`${r.url}/readyz`);
  const body = (await res.json()) as { checks: { leader: string } };
  return { status: res.status, leader: body.checks.leader };
}

/**
 * An authenticated JSON request under /api/admin/rollback (or an absolute path): Alertmanager's
 * credential, except resume and approve, which are a human's (the operator's).
 */
export async function call(
  r: Replica,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const full = path.startsWith('/') ? `${r.url}${path}` : `${r.url}/api/admin/rollback/${path}`;
  const operator = /(^|\/)(resume|approve)$/.test(path);
  const res = await fetch(full, {
    method,
    headers: {
      authorization: operator ? OPERATOR_AUTH : WEBHOOK_AUTH,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Rollback PATCHes of a Deployment's pod template (not dry runs, not the pending marks). */
export function templatePatches(fake: FakeKube, namespace: string, name: string) {
  return fake.requests.filter(
    (r) =>
      r.method === 'PATCH' &&
      r.path === `/apis/apps/v1/namespaces/${namespace}/deployments/${name}` &&
      r.query['dryRun'] === undefined &&
      JSON.stringify(r.body ?? '').includes('/spec/template'),
  );
}

export function replicaSet(fake: FakeKube, dir: string): ReplicaSet {
  const all: Replica[] = [];
  const start: ReplicaSet['start'] = async (name, leaseName, env = {}) => {
    const pod = await fetch(`${fake.url}/api/v1/namespaces/rollback-system/pods`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        metadata: { name },
        spec: { containers: [{ name: 'controller', image: 'rollback-controller' }] },
        status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] },
      }),
    });
    // 409: a restart of a replica whose Pod is still there.
    assert.ok(pod.status === 201 || pod.status === 409, await pod.text());
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(process.execPath, [compiledEntry('main')], {
      env: {
        ...process.env,
        KUBERNETES_SERVICE_HOST: '',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ROLLBACK_WEBHOOK_SECRET: SECRET,
        ROLLBACK_OPERATOR_SECRET: OPERATOR_SECRET,
        ROLLBACK_DATA_DIR: join(dir, `data-${name}`),
        ROLLBACK_CONFIG: join(dir, 'config.yaml'),
        KUBECONFIG: fake.kubeconfigPath,
        ROLLBACK_LEADER_ELECTION: 'true',
        ROLLBACK_LEASE_NAME: leaseName,
        POD_NAME: name,
        POD_NAMESPACE: 'rollback-system',
        // Where followers forward to: http://POD_IP:PORT, published on the Lease.
        POD_IP: '127.0.0.1',
        ROLLBACK_ADVERTISE_URL: '',
        // Production timings: a leader starved of CPU by a busy machine must not lose the Lease
        // mid-test (a 3 s lease did); a takeover after a kill waits for expiry, however long.
        ROLLBACK_LEASE_DURATION_SECONDS: '15',
        ROLLBACK_LEASE_RENEW_DEADLINE_SECONDS: '10',
        ROLLBACK_LEASE_RETRY_PERIOD_SECONDS: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    const r: Replica = { name, url: `http://127.0.0.1:${port}`, child, output, exited };
    all.push(r);
    await new Promise<void>((ok, fail) => {
      const onData = (d: Buffer) => {
        output.push(d.toString());
        if (d.toString().includes('"listening"')) ok();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
      void exited.then((code) => fail(new Error(`${name} exited ${code}: ${output.join('')}`)));
    });
    return r;
  };
  return {
    all,
    start,
    async electedPair(a, b, leaseName) {
      const pair = await Promise.all([start(a, leaseName), start(b, leaseName)]);
      let leader: Replica | undefined;
      await until(
        async () => {
          for (const r of pair) if ((await readyz(r)).leader === 'leader') leader = r;
          return leader !== undefined;
        },
        HANG_GUARD_MS,
        'a leader is elected',
      );
      const follower = leader === pair[0] ? pair[1] : pair[0];
      await until(
        async () =>
          (await readyz(follower)).leader === 'follower' &&
          (await call(follower, 'GET', 'status')).headers.get('x-rollback-forwarded-to') ===
            leader?.name,
        HANG_GUARD_MS,
        'the follower knows where the leader is',
      );
      return { leader: leader!, follower };
    },
    async killAll() {
      for (const r of all) r.child.kill('SIGKILL');
      await Promise.all(all.map((r) => r.exited));
    },
  };
}

const CONTROLLER_STATE = 'rollback-controller.io/controller-state';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/rollback-system/leases';

/** What an attacker with `update leases` does: read, change, write back (again on a 409). */
export async function editLease(
  fake: FakeKube,
  name: string,
  edit: (lease: any) => void,
): Promise<void> {
  await until(
    async () => {
      const lease = structuredClone(fake.get('Lease', 'rollback-system', name));
      edit(lease);
      const res = await fetch(`${fake.url}${LEASES}/${name}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(lease),
      });
      return res.status === 200;
    },
    HANG_GUARD_MS,
    `the Lease ${name} is rewritten`,
  );
}

/** The controller-state annotation on a Lease, as published. */
export function publishedState(fake: FakeKube, lease: string): string | undefined {
  return fake.get('Lease', 'rollback-system', lease).metadata.annotations?.[CONTROLLER_STATE] as
    string | undefined;
}

/** The pause state a replica reports (its leader's, on a follower). */
export async function pauseState(r: Replica): Promise<{ paused: boolean; reason?: string }> {
  return (await call(r, 'GET', 'status')).body.paused;
}

/** What a replica decides for a fresh alert on a workload. */
export async function decides(r: Replica, workload: string): Promise<string> {
  const startsAt = new Date(Date.now() + 1000).toISOString();
  const res = await call(
    r,
    'POST',
    'trigger',
    payload([firing('CriticalErrorRate', workload, { startsAt })]),
  );
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.decisions[0].decision as string;
}
