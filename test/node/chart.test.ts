// The chart really installed on a real node: `helm install` with the image built from the
// Dockerfile, the pod started by the kubelet in containerd/runc under the chart's
// securityContext, its probes passing, its ServiceAccount token used through in-cluster config
// (KUBERNETES_SERVICE_HOST, kube-proxy to the API server), its journal in the chart's volume.
// Then: a restart with a journal at the compaction threshold inside the memory limit the kubelet
// enforces, and two replicas with leader election losing their leader pod mid-queue.
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alert, payload } from '../support/alerts.js';
import { chartMemory } from '../support/chart-memory.js';
import { fillJournal } from '../support/journal-fill.js';
import { startNodeCluster, type NodeCluster } from '../support/kube-node/index.js';
import { until } from '../support/until.js';
import {
  RELEASE,
  RELEASE_NS,
  SA_USER,
  callController,
  chartValues,
  demoDeployedTwice,
  demoDeployment,
  installChart,
  isReady,
  podsOf,
  serviceUrl,
} from './support.js';

const APPS = 'apps';
const SELECTOR = `app.kubernetes.io/instance=${RELEASE}`;
const MiB = 2 ** 20;
let cluster: NodeCluster;
let dir: string;
let service: string;

before(
  async () => {
    cluster = await startNodeCluster();
    dir = mkdtempSync(join(tmpdir(), 'rc-node-chart-'));
    await cluster.createNamespace(APPS);
    await installChart(
      cluster,
      dir,
      chartValues({ image: cluster.images.controller, namespaces: [APPS] }),
    );
    service = await serviceUrl(cluster, RELEASE_NS, RELEASE);
  },
  { timeout: 3_600_000 },
);
after(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function controllerPods(): Promise<any[]> {
  return (await podsOf(cluster, RELEASE_NS, SELECTOR)).filter((p) => !p.metadata.deletionTimestamp);
}

const containerId = (pod: any): string =>
  String(pod.status.containerStatuses[0].containerID).replace(/^containerd:\/\//, '');

/** The container's node process (tini is PID 1 in the container, node its child). */
function nodeProcess(pod: any): number {
  const pids = cluster.containerPids(pod.metadata.uid, containerId(pod));
  const pid = pids.find((p) =>
    readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('dist/main.js'),
  );
  assert.ok(pid, `node dist/main.js among ${pids.join(', ')}`);
  return pid;
}

/** The pod addresses kube-proxy's iptables rules send the controller's Service to. */
function serviceDestinations(): string[] {
  const rules = execFileSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' });
  return rules
    .split('\n')
    .filter((l) => l.includes(`${RELEASE_NS}/${RELEASE}`) && l.includes('-j DNAT'))
    .map((l) => /--to-destination (\S+)/.exec(l)?.[1] ?? '')
    .sort();
}

function statusField(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return m?.[1]?.trim() ?? '';
}

function rollbackAlert(names: string[]) {
  // After the v2 rollouts (creation times have second resolution).
  const startsAt = new Date(Date.now() + 1000).toISOString();
  return payload(
    names.map((n) =>
      alert({
        alertname: 'CriticalErrorRate',
        startsAt,
        labels: { namespace: APPS, deployment: n },
      }),
    ),
  );
}

async function jobsDone(count: number): Promise<any[]> {
  let jobs: any[] = [];
  await until(
    async () => {
      const r = await callController(service, 'GET', 'jobs').catch(() => undefined);
      jobs = (r?.body?.jobs as any[]) ?? [];
      return (
        jobs.length >= count &&
        jobs.every((j) => ['succeeded', 'failed', 'skipped'].includes(j.state))
      );
    },
    600_000,
    `${count} jobs finished`,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${JSON.stringify(jobs, null, 1).slice(0, 4000)}`);
  });
  return jobs;
}

describe('the chart on a real node', () => {
  test('the pod runs under the chart securityContext, ready, with its ServiceAccount, journaling in its volume', async () => {
    const [pod] = await controllerPods();
    assert.ok(pod && isReady(pod), 'the readiness probe passed');
    const c = pod.spec.containers[0];
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(
      pod.status.containerStatuses[0].restartCount,
      0,
      'the liveness probe never failed',
    );

    // What the kernel says about the process runc started.
    const pid = nodeProcess(pod);
    assert.equal(statusField(pid, 'Uid'), '10001\t10001\t10001\t10001');
    assert.equal(statusField(pid, 'Gid'), '10001\t10001\t10001\t10001');
    assert.equal(statusField(pid, 'NoNewPrivs'), '1', 'allowPrivilegeEscalation: false');
    assert.equal(statusField(pid, 'CapEff'), '0000000000000000', 'every capability dropped');
    assert.equal(statusField(pid, 'Seccomp'), '2', 'seccomp RuntimeDefault (filter mode)');
    const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/');
    assert.match(rootMount ?? '', /^\S+ \S+ \S+ \S+ \/ ro[ ,]/, 'readOnlyRootFilesystem');
    assert.equal(
      cluster.memoryLimit(pod.metadata.uid, containerId(pod)),
      256 * MiB,
      "the kubelet enforces the chart's memory limit",
    );

    // A rollback through the Service, done with the chart's ServiceAccount (in-cluster config).
    await demoDeployedTwice(cluster, APPS, 'one', cluster.images);
    const r = await callController(service, 'POST', 'trigger', { body: rollbackAlert(['one']) });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const [job] = await jobsDone(1);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    const d = await cluster.waitRolledOut('Deployment', APPS, 'one', 300_000);
    assert.equal(d.spec.template.spec.containers[0].image, cluster.images.demoV1);
    assert.equal(
      cluster.audit.templateWrites({ user: SA_USER, namespace: APPS, name: 'one' }).length,
      1,
    );
    assert.deepEqual(cluster.audit.denied({ user: SA_USER }), []);

    // The journal is in the chart's data volume (ROLLBACK_DATA_DIR on the emptyDir).
    const data = cluster.emptyDir(pod.metadata.uid, 'data');
    assert.ok(readFileSync(join(data, 'journal.jsonl'), 'utf8').includes(job.id));
  });

  test('restart with a journal at the compaction threshold stays inside the memory limit', async () => {
    const chart = chartMemory();
    const [pod] = await controllerPods();
    const uid = pod.metadata.uid;
    const stage = mkdtempSync(join(tmpdir(), 'rc-node-journal-'));
    try {
      const fill = await fillJournal(stage, chart.compactAboveMiB * MiB, { now: Date.now() });
      // Stop the process (it cannot write), swap its journal for the full one, kill it: the
      // kubelet restarts the container, which replays the journal.
      const pid = nodeProcess(pod);
      process.kill(pid, 'SIGSTOP');
      const data = cluster.emptyDir(uid, 'data');
      copyFileSync(join(stage, 'journal.jsonl'), join(data, 'journal.jsonl'));
      chownSync(join(data, 'journal.jsonl'), 10001, 10001);
      process.kill(pid, 'SIGKILL');

      let restarted: any;
      await until(
        async () => {
          restarted = (await controllerPods()).find((p) => p.metadata.uid === uid);
          return restarted?.status.containerStatuses[0].restartCount === 1 && isReady(restarted);
        },
        600_000,
        'the container restarted and is Ready again',
      );
      const cid = containerId(restarted);
      const peak = cluster.memoryPeak(uid, cid);
      const limit = cluster.memoryLimit(uid, cid);
      console.log(
        `restart with a ${(fill.bytes / MiB).toFixed(1)} MiB journal (${fill.records} records): ` +
          `container memory peak ${(peak / MiB).toFixed(1)} MiB, limit ${(limit / MiB).toFixed(0)} MiB`,
      );
      assert.ok(peak < limit, `peak ${peak} < limit ${limit}`);
      assert.equal(restarted.status.containerStatuses[0].lastState.terminated?.reason, 'Error');
      const logs = await cluster.kubectl(['logs', '-n', RELEASE_NS, restarted.metadata.name]);
      const replayed = logs.split('\n').find((l) => l.includes('"journal replayed"'));
      assert.ok(replayed, logs.slice(-3000));
      assert.equal((JSON.parse(replayed) as { replayed: number }).replayed, fill.records);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });

  test('replicas: 2 with leader election: the leader pod deleted mid-queue, one template PATCH per workload; either pod answers', async () => {
    const names = ['api', 'web', 'cart'];
    // minReadySeconds: each rollback's rollout takes at least 10 s by the kubelet's and the
    // controller-manager's account, so the leader is deleted while the queue still holds jobs
    // however fast or slow this machine is.
    await Promise.all(
      names.map(async (n) => {
        const d = demoDeployment(APPS, n, cluster.images.demoV1) as any;
        d.spec.minReadySeconds = 10;
        await cluster.apply(JSON.stringify(d));
        await cluster.waitRolledOut('Deployment', APPS, n, 300_000);
        await cluster.setImage('Deployment', APPS, n, cluster.images.demoV2);
        await cluster.waitRolledOut('Deployment', APPS, n, 300_000);
      }),
    );
    await installChart(
      cluster,
      dir,
      chartValues({ image: cluster.images.controller, namespaces: [APPS], replicaCount: 2 }),
    );
    // Leader election changes the pod template: wait until the old pod is gone from the
    // Deployment's count and both new replicas are Ready.
    await cluster.waitRolledOut('Deployment', RELEASE_NS, RELEASE, 600_000);
    let pods: any[] = [];
    await until(
      async () => {
        pods = await controllerPods();
        return pods.length === 2 && pods.every(isReady) && pods.every((p) => p.status.podIP);
      },
      600_000,
      'two Ready replicas',
    );
    const lease = async (): Promise<string> =>
      (
        await cluster.http.ok(
          'GET',
          `/apis/coordination.k8s.io/v1/namespaces/${RELEASE_NS}/leases/${RELEASE}`,
        )
      ).spec.holderIdentity as string;
    await until(
      async () => {
        const holder = await lease().catch(() => '');
        return pods.some((p) => p.metadata.name === holder);
      },
      300_000,
      'a replica holds the Lease',
    );
    const leaderName = await lease();
    const follower = pods.find((p) => p.metadata.name !== leaderName);
    assert.ok(follower, `a follower beside ${leaderName}`);

    // Operator requests on either pod (the follower forwards to the leader) and through the Service.
    for (const p of pods) {
      const s = await callController(`http://${p.status.podIP}:8080`, 'GET', 'status', {
        as: 'operator',
      });
      assert.equal(s.status, 200, `${p.metadata.name}: ${JSON.stringify(s.body)}`);
    }
    const viaFollower = `http://${follower.status.podIP}:8080`;
    const pause = await callController(viaFollower, 'POST', 'pause', {
      as: 'operator',
      body: { reason: 'node suite' },
    });
    assert.equal(pause.status, 200, JSON.stringify(pause.body));
    for (const p of pods) {
      const s = await callController(`http://${p.status.podIP}:8080`, 'GET', 'status', {
        as: 'operator',
      });
      assert.equal(s.body.paused?.paused, true, `${p.metadata.name}: ${JSON.stringify(s.body)}`);
    }
    // The Service reaches the new pods only once kube-proxy has replaced the old pod's address in
    // its rules (a SYN to the deleted pod's address is never answered): wait for exactly these two.
    await until(
      () =>
        serviceDestinations().join(' ') ===
        pods
          .map((p) => `${p.status.podIP}:8080`)
          .sort()
          .join(' '),
      300_000,
      "kube-proxy's rules for the Service name exactly the two replicas",
    );
    const resumed = await callController(service, 'POST', 'resume', { as: 'operator' });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    const wrong = await fetch(`${service}/api/admin/rollback/status`, {
      headers: { authorization: 'Basic ' + Buffer.from('operator:wrong').toString('base64') },
    });
    assert.equal(wrong.status, 401, 'wrong operator credentials are refused through the Service');

    const writes = (name: string) =>
      cluster.audit.templateWrites({ user: SA_USER, namespace: APPS, name });
    const accepted = await callController(service, 'POST', 'trigger', {
      body: rollbackAlert(names),
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    await until(
      () => names.some((n) => writes(n).length > 0),
      300_000,
      'the first rollback patched',
    );
    await cluster.http.ok('DELETE', `/api/v1/namespaces/${RELEASE_NS}/pods/${leaderName}`);
    const patchedBeforeDelete = names.filter((n) => writes(n).length > 0);
    assert.ok(patchedBeforeDelete.length < names.length, 'deleted before the queue was done');

    await until(
      async () => ![leaderName, ''].includes(await lease().catch(() => '')),
      600_000,
      'another replica holds the Lease',
    );
    const newLeader = await lease();
    const counts: Record<string, number> = {};
    for (const n of names) {
      const d = await cluster.waitFor(
        'Deployment',
        APPS,
        n,
        (w: any) => w.spec.template.spec.containers[0].image === cluster.images.demoV1,
        600_000,
      );
      assert.equal(d.spec.template.spec.containers[0].image, cluster.images.demoV1, `${n} on v1`);
      await cluster.waitRolledOut('Deployment', APPS, n, 300_000);
      counts[n] = writes(n).length;
    }
    // The new leader shows the jobs it adopted (those the deleted leader had not finished), all
    // succeeded; a job the deleted leader finished is in its own (gone) journal, not adopted.
    const adopted = (await jobsDone(names.length - patchedBeforeDelete.length)).filter((j) =>
      names.some((n) => j.targetKey === `Deployment/${APPS}/${n}`),
    );
    assert.ok(adopted.length >= names.length - patchedBeforeDelete.length, JSON.stringify(adopted));
    assert.deepEqual(
      adopted.filter((j) => j.state !== 'succeeded'),
      [],
      'every adopted job succeeded',
    );
    console.log(
      `HA: leader ${leaderName} deleted after ${patchedBeforeDelete.length} of ${names.length} ` +
        `template PATCHes; new leader ${newLeader} adopted ${adopted.length}; template PATCHes ` +
        `per workload ${JSON.stringify(counts)}`,
    );
    assert.deepEqual(counts, Object.fromEntries(names.map((n) => [n, 1])));
  });
});
