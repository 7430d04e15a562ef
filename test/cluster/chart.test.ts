// The Helm chart on the real control plane: `helm install` with every optional object on (the
// API server validates each; the prometheus-operator CRDs come from that project's Go module),
// then the controller runs with the chart's ServiceAccount token (TokenRequest) under the
// chart's RBAC and the chart's own config: a rollback in a covered namespace succeeds with no
// denied request; one in a namespace the RBAC does not cover fails saying "forbidden"; and the
// (verb, resource) pairs the controller used are compared with what the chart grants. The
// `kubeconfig.*` values: the controller runs with the rendered env and the Secret the rendered
// volume names, laid out as the kubelet mounts it, and patches through the chosen context.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { chartCrdFiles } from '../support/kube-cluster/binaries.js';
import { helmOn } from '../support/helm.js';
import {
  alertAndWait,
  deployedTwice,
  imageOf,
  startController,
  type RunningController,
} from './support.js';

const CHART = resolve(import.meta.dirname, '../../charts/rollback-controller');
const RELEASE_NS = 'rollback-system';
const USER = `system:serviceaccount:${RELEASE_NS}:rollback-controller`;

let cluster: KubeCluster;
let controller: RunningController;
let dir: string;
let manifest: string;

before(async () => {
  cluster = await startKubeCluster();
  dir = mkdtempSync(join(tmpdir(), 'rc-chart-'));
  for (const ns of ['apps', 'elsewhere']) await cluster.createNamespace(ns);
  for (const file of chartCrdFiles()) await cluster.kubectl(['apply', '--server-side', '-f', file]);
  await cluster.waitCrdsEstablished();
});
after(async () => {
  if (controller) await controller.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function helm(...args: string[]): Promise<string> {
  return helmOn(cluster, dir, args, 240_000);
}

/** `helm install --wait` of the chart; resolves with the rendered manifest. */
async function install(release: string, ns: string, values: object): Promise<string> {
  const file = join(dir, `${release}-values.yaml`);
  writeFileSync(file, stringify(values));
  await helm(
    'install',
    release,
    CHART,
    '-n',
    ns,
    '--create-namespace',
    '-f',
    file,
    '--wait',
    '--timeout',
    '180s',
  );
  return helm('get', 'manifest', release, '-n', ns);
}

/** The release's own config (its ConfigMap), with a test-sized poll interval. */
async function chartConfig(ns: string, release: string): Promise<any> {
  const cm = await cluster.http.ok('GET', `/api/v1/namespaces/${ns}/configmaps/${release}`);
  const config = parse(cm.data['config.yaml'] as string);
  config.rollout = { ...config.rollout, pollIntervalSeconds: 0.1 };
  return config;
}

/** `verb group/resource` pairs the chart's Roles and ClusterRoles grant. */
function granted(rendered: string): string[] {
  const out = new Set<string>();
  for (const doc of parseAllDocuments(rendered)) {
    const o = doc.toJS();
    if (!o || !['Role', 'ClusterRole'].includes(o.kind)) continue;
    for (const rule of o.rules ?? [])
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs ?? []) out.add(`${verb} ${group}/${resource}`);
  }
  return [...out].sort();
}

describe('the chart on the real control plane', () => {
  test('helm install: every object, the optional ones too, passes server-side validation', async () => {
    const optional = {
      serviceMonitor: { enabled: true },
      prometheusRule: { enabled: true },
      dashboard: { enabled: true },
      alertmanagerConfig: { enabled: true },
      operator: { enabled: true },
      secret: { operatorSecret: 'chart-test-operator-secret-0123456789' },
    };
    // Two replicas: leader election (its Lease Role) and the PodDisruptionBudget.
    const ha = await install('rollback-ha', 'rollback-ha', {
      ...optional,
      replicaCount: 2,
      rbac: { namespaces: ['apps'] },
    });
    // The release the controller runs as below: one replica, workloads in `apps` only.
    manifest = await install('rollback-controller', RELEASE_NS, {
      ...optional,
      rbac: { namespaces: ['apps'] },
    });
    const kinds = (text: string) =>
      parseAllDocuments(text)
        .map((d) => d.toJS()?.kind)
        .filter(Boolean)
        .sort();
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'AlertmanagerConfig', 'Deployment'])
      assert.ok(kinds(manifest).includes(kind), `${kind} rendered: ${kinds(manifest).join(', ')}`);
    assert.ok(kinds(ha).includes('PodDisruptionBudget'));
    const listed = await cluster.kubectl([
      'get',
      'servicemonitors,prometheusrules,alertmanagerconfigs,deployments,poddisruptionbudgets,roles',
      '-n',
      'rollback-ha',
      '-o',
      'name',
    ]);
    assert.deepEqual(listed.trim().split('\n').sort(), [
      'alertmanagerconfig.monitoring.coreos.com/rollback-ha-rollback-controller',
      'deployment.apps/rollback-ha-rollback-controller',
      'poddisruptionbudget.policy/rollback-ha-rollback-controller',
      'prometheusrule.monitoring.coreos.com/rollback-ha-rollback-controller',
      'role.rbac.authorization.k8s.io/rollback-ha-rollback-controller-leader-election',
      'servicemonitor.monitoring.coreos.com/rollback-ha-rollback-controller',
    ]);
    const d = await cluster.waitRolledOut(
      'Deployment',
      'rollback-ha',
      'rollback-ha-rollback-controller',
    );
    assert.equal(d.status.readyReplicas, 2, "the chart's pods are Ready (simulated kubelets)");
  });

  test("the controller under the chart's RBAC: rollback, forbidden namespace, verbs used vs granted", async () => {
    assert.ok(manifest, 'the chart is installed');
    // The chart's own config, with a test-sized poll interval.
    const config = await chartConfig(RELEASE_NS, 'rollback-controller');
    // Four rollbacks within a minute here; the default breaker (3 in 10 min) would stop the 4th.
    config.policy = { ...config.policy, circuitBreaker: { maxRollbacks: 10, windowSeconds: 600 } };
    const kubeconfig = await cluster.serviceAccountKubeconfig(RELEASE_NS, 'rollback-controller');
    controller = await startController({
      kubeconfig,
      config: stringify(config),
      env: {
        POD_NAMESPACE: RELEASE_NS,
        POD_NAME: 'rollback-controller-test',
      },
    });
    const kinds = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
    for (const kind of kinds) await deployedTwice(cluster, kind, 'apps', kind.toLowerCase());
    await deployedTwice(cluster, 'Deployment', 'elsewhere', 'api');

    // One rollback of each kind in the namespace the chart's RBAC covers.
    for (const kind of kinds) {
      const name = kind.toLowerCase();
      const job = await alertAndWait(controller, kind, 'apps', name);
      assert.equal(
        job.state,
        'succeeded',
        `${kind}: ${job.reason}\n${controller.output().slice(-3000)}`,
      );
      assert.equal(imageOf(await cluster.waitRolledOut(kind, 'apps', name)), `${name}:v1`);
      assert.equal(
        cluster.audit.templateWrites({ user: USER, namespace: 'apps', name }).length,
        1,
        `${kind}: one template PATCH`,
      );
    }
    assert.deepEqual(
      cluster.audit.denied({ user: USER }).map((e) => `${e.verb} ${e.requestURI}`),
      [],
      'no request of the controller was denied',
    );

    const refused = await alertAndWait(controller, 'Deployment', 'elsewhere', 'api');
    assert.equal(refused.state, 'failed', JSON.stringify(refused));
    assert.match(refused.reason, /forbidden/i);
    assert.match(refused.reason, /elsewhere/);
    assert.equal(
      imageOf(await cluster.get('Deployment', 'elsewhere', 'api')),
      'api:v2',
      'untouched',
    );
    const denied = cluster.audit.denied({ user: USER });
    assert.ok(denied.length >= 1);
    assert.deepEqual([...new Set(denied.map((e) => e.objectRef?.namespace))], ['elsewhere']);

    // What the controller used (allowed requests) against what the chart grants.
    const used = [
      ...new Set(
        cluster.audit
          .events({ user: USER })
          .filter((e) => e.objectRef?.resource && (e.responseStatus?.code ?? 0) < 400)
          // The permission check asks what it may do: every authenticated identity may
          // (system:basic-user), so the chart grants nothing for it.
          .filter((e) => e.objectRef?.resource !== 'selfsubjectaccessreviews')
          .map((e) => `${e.verb} ${e.objectRef!.apiGroup ?? ''}/${e.objectRef!.resource}`),
      ),
    ].sort();
    const grants = granted(manifest);
    assert.deepEqual(
      used.filter((u) => !grants.includes(u)),
      [],
      'everything used came from the chart',
    );
    // Granted and never used, each for a reason (a change to the chart or the controller that
    // makes this list differ fails here, so the chart stays least-privilege):
    const unusedWithReason: Record<string, string> = {
      // The watch cache: with allowedNamespaces ['*'] it needs list and watch in all namespaces,
      // which these namespaced Roles do not give, so it stays off (an access review, no denied
      // request) and planning reads directly (operations.md "Watch cache").
      'watch apps/deployments': 'watch cache off',
      'watch apps/statefulsets': 'watch cache off',
      'watch apps/daemonsets': 'watch cache off',
      'watch apps/replicasets': 'watch cache off',
      'watch apps/controllerrevisions': 'watch cache off',
      // Events are written with the core v1 API only.
      'create events.k8s.io/events': 'core events only',
      // Revisions are found by listing with the workload's selector, never read by name.
      'get apps/controllerrevisions': 'listed',
      'get apps/replicasets': 'listed',
      // Only a new leader lists workloads (the pending-rollback label, to adopt a dead leader's
      // jobs); one replica never does. That list is cluster-wide, which these namespaced Roles
      // do not allow: see the findings in the README's real-cluster section.
      'list apps/deployments': 'HA adoption',
      'list apps/statefulsets': 'HA adoption',
      'list apps/daemonsets': 'HA adoption',
      // A StatefulSet's pods are listed only to name one stuck on the bad revision (OrderedReady
      // forced rollback, and policy.deleteStuckPods); this rollback needs none.
      'list /pods': 'StatefulSet forced rollback',
    };
    const unused = grants.filter((g) => !used.includes(g));
    assert.deepEqual(
      unused,
      Object.keys(unusedWithReason).sort(),
      `granted but never used: ${unused.join(', ')}; used: ${used.join(', ')}`,
    );
  });

  test('two replicas: the leader holds the Lease under the chart RBAC, its adoption scan is allowed', async () => {
    // The release with leader election (test 1). Its Roles cover `apps` only, so the scan for a
    // dead leader's jobs must be told the namespaces: allowedNamespaces listed literally (with
    // the chart's default ['*'] the scan is cluster-wide and denied: see the README).
    const release = 'rollback-ha-rollback-controller';
    const user = `system:serviceaccount:rollback-ha:${release}`;
    const config = await chartConfig('rollback-ha', release);
    config.policy = { ...config.policy, allowedNamespaces: ['apps'] };
    const ha = await startController({
      kubeconfig: await cluster.serviceAccountKubeconfig('rollback-ha', release),
      config: stringify(config),
      env: {
        POD_NAMESPACE: 'rollback-ha',
        POD_NAME: `${release}-test`,
        POD_IP: '127.0.0.1',
        ROLLBACK_ADVERTISE_URL: '',
        ROLLBACK_LEADER_ELECTION: 'true',
        ROLLBACK_LEASE_NAME: release,
      },
    });
    try {
      const end = Date.now() + 60_000;
      let leader = '';
      while (leader !== 'leader' && Date.now() < end) {
        const res = await fetch(`${ha.url}/readyz`);
        leader = ((await res.json()) as { checks: { leader: string } }).checks.leader;
        if (leader !== 'leader') await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(leader, 'leader', ha.output().slice(-2000));
      const lease = await cluster.http.ok(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/rollback-ha/leases/${release}`,
      );
      assert.equal(lease.spec.holderIdentity, `${release}-test`);
      const used = cluster.audit.verbsUsed(user);
      for (const verb of [
        'list apps/deployments',
        'list apps/statefulsets',
        'list apps/daemonsets',
      ])
        assert.ok(used.includes(verb), `${verb} (adoption scan) in ${used.join(', ')}`);
      assert.ok(
        used.some((v) => v.endsWith('coordination.k8s.io/leases')),
        used.join(', '),
      );
      assert.deepEqual(
        cluster.audit.denied({ user }).map((e) => `${e.verb} ${e.requestURI}`),
        [],
        'no request of the leader was denied',
      );
    } finally {
      await ha.close();
    }
  });
  test('kubeconfig.secretName and .context: the controller patches through the mounted kubeconfig', async () => {
    // A kubeconfig whose current context is a decoy; `target` is the chart's identity on this
    // cluster. Only the chart's ROLLBACK_KUBE_CONTEXT can make the controller use it.
    const own = parse(
      readFileSync(
        await cluster.serviceAccountKubeconfig(RELEASE_NS, 'rollback-controller'),
        'utf8',
      ),
    );
    const kubeconfig = {
      ...own,
      clusters: [...own.clusters, { name: 'decoy', cluster: { server: 'https://127.0.0.1:1' } }],
      contexts: [
        { name: 'decoy', context: { cluster: 'decoy', user: own.users[0].name } },
        { name: 'target', context: own.contexts[0].context },
      ],
      'current-context': 'decoy',
    };
    await cluster.http.ok('POST', `/api/v1/namespaces/${RELEASE_NS}/secrets`, {
      metadata: { name: 'remote-kubeconfig' },
      stringData: { config: stringify(kubeconfig) },
    });
    await deployedTwice(cluster, 'Deployment', 'apps', 'remote');

    const rendered = await helm(
      'template',
      'rollback-controller',
      CHART,
      '-n',
      RELEASE_NS,
      '--set',
      'kubeconfig.secretName=remote-kubeconfig',
      '--set',
      'kubeconfig.context=target',
    );
    const deployment = parseAllDocuments(rendered)
      .map((d) => d.toJS())
      .find((o) => o?.kind === 'Deployment');
    // The API server accepts the rendered pod spec (the Secret volume, its mount, the env).
    const file = join(dir, 'kubeconfig-deployment.yaml');
    writeFileSync(file, stringify(deployment));
    await cluster.kubectl(['apply', '--dry-run=server', '-n', RELEASE_NS, '-f', file]);

    // What the kubelet would mount: the Secret named by the rendered volume, each key a file
    // under the rendered mount path (here under a temporary root).
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const env = (name: string) =>
      container.env.find((e: { name: string }) => e.name === name)?.value as string;
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'kubeconfig');
    const volume = pod.volumes.find((v: { name: string }) => v.name === 'kubeconfig');
    const secret = await cluster.http.ok(
      'GET',
      `/api/v1/namespaces/${RELEASE_NS}/secrets/${volume.secret.secretName}`,
    );
    const root = join(dir, 'pod-root');
    mkdirSync(join(root, mount.mountPath), { recursive: true });
    for (const [key, value] of Object.entries(secret.data as Record<string, string>))
      writeFileSync(join(root, mount.mountPath, key), Buffer.from(value, 'base64'));
    assert.ok(env('KUBECONFIG').startsWith(`${mount.mountPath}/`), env('KUBECONFIG'));

    const remote = await startController({
      kubeconfig: join(root, env('KUBECONFIG')),
      env: { ROLLBACK_KUBE_CONTEXT: env('ROLLBACK_KUBE_CONTEXT') },
    });
    try {
      const line = remote
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"listening"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
      assert.equal(line?.['kubeContext'], 'target', remote.output());
      assert.equal(line?.['apiServer'], cluster.server);
      const status = await remote.call('GET', 'status');
      assert.deepEqual(status.body.cluster.apiServer, cluster.server);
      const plan = (
        await remote.call('POST', 'test', {
          alert_name: 'CriticalErrorRate',
          labels: { severity: 'critical', namespace: 'apps', deployment: 'remote' },
        })
      ).body.plans[0];
      assert.equal(plan.decision, 'queued', JSON.stringify(plan));
      assert.equal(plan.fromRevision, 2, 'read from the real API server through `target`');
      assert.equal(plan.toRevision, 1);
      assert.equal(plan.execution.serverDryRun, true, JSON.stringify(plan.execution));
    } finally {
      await remote.close();
    }
  });
});
