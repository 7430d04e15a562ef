// The Helm chart on the real control plane: `helm install` with every optional object on (the
// API server validates each; the prometheus-operator CRDs come from that project's Go module),
// then the controller runs with the chart's ServiceAccount token (TokenRequest) under the
// chart's RBAC and the chart's own config: a rollback in a covered namespace succeeds with no
// denied request; one in a namespace the RBAC does not cover fails saying "forbidden"; and the
// (verb, resource) pairs the controller used are compared with what the chart grants.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { chartCrdFiles } from '../support/kube-cluster/binaries.js';
import { helmPath } from '../support/tools.js';
import {
  alertFor,
  deployedTwice,
  imageOf,
  jobIn,
  startController,
  type RunningController,
} from './support.js';

const run = promisify(execFile);
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
  for (const file of chartCrdFiles())
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', file]);
});
after(async () => {
  if (controller) await controller.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function helm(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(dir, 'helm-cache'),
    HELM_CONFIG_HOME: join(dir, 'helm-config'),
    HELM_DATA_HOME: join(dir, 'helm-data'),
    KUBECONFIG: cluster.kubeconfigPath,
  };
  try {
    return (await run(helmPath(), args, { env, timeout: 240_000, maxBuffer: 32 * 1024 * 1024 }))
      .stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`helm ${args.join(' ')}: ${err.stderr || err.message}`);
  }
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
    const values = {
      replicaCount: 2,
      leaderElection: { enabled: true },
      rbac: { namespaces: ['apps'] },
      serviceMonitor: { enabled: true },
      prometheusRule: { enabled: true },
      dashboard: { enabled: true },
      alertmanagerConfig: { enabled: true },
      operator: { enabled: true },
    };
    writeFileSync(join(dir, 'values.yaml'), stringify(values));
    await helm(
      'install',
      'rollback-controller',
      CHART,
      '-n',
      RELEASE_NS,
      '--create-namespace',
      '-f',
      join(dir, 'values.yaml'),
      '--wait',
      '--timeout',
      '180s',
    );
    manifest = await helm('get', 'manifest', 'rollback-controller', '-n', RELEASE_NS);
    const kinds = parseAllDocuments(manifest)
      .map((d) => d.toJS()?.kind)
      .filter(Boolean)
      .sort();
    for (const kind of [
      'ServiceMonitor',
      'PrometheusRule',
      'AlertmanagerConfig',
      'PodDisruptionBudget',
      'Deployment',
    ])
      assert.ok(kinds.includes(kind), `${kind} rendered: ${kinds.join(', ')}`);
    const listed = await cluster.kubectl([
      'get',
      'servicemonitors,prometheusrules,alertmanagerconfigs,deployments,poddisruptionbudgets',
      '-n',
      RELEASE_NS,
      '-o',
      'name',
    ]);
    assert.equal(listed.trim().split('\n').length, 5, listed);
    const d = await cluster.waitRolledOut('Deployment', RELEASE_NS, 'rollback-controller');
    assert.equal(d.status.readyReplicas, 2, "the chart's pods are Ready (simulated kubelets)");
  });

  test("the controller under the chart's RBAC: rollback, forbidden namespace, verbs used vs granted", async () => {
    assert.ok(manifest, 'the chart is installed');
    // The chart's own config, with a test-sized poll interval.
    const cm = await cluster.http.ok(
      'GET',
      `/api/v1/namespaces/${RELEASE_NS}/configmaps/rollback-controller`,
    );
    const config = parse(cm.data['config.yaml'] as string);
    config.rollout = { ...config.rollout, pollIntervalSeconds: 0.1 };
    const kubeconfig = await cluster.serviceAccountKubeconfig(RELEASE_NS, 'rollback-controller');
    controller = await startController({
      kubeconfig,
      config: stringify(config),
      env: {
        POD_NAMESPACE: RELEASE_NS,
        POD_NAME: 'rollback-controller-test',
        POD_IP: '127.0.0.1',
        ROLLBACK_ADVERTISE_URL: '',
        ROLLBACK_LEADER_ELECTION: 'true',
        ROLLBACK_LEASE_NAME: 'rollback-controller',
      },
    });
    await deployedTwice(cluster, 'Deployment', 'apps', 'api');
    await deployedTwice(cluster, 'Deployment', 'elsewhere', 'api');

    const ok = await controller.call('POST', 'trigger', alertFor('Deployment', 'apps', 'api'));
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal(ok.body.decisions[0].decision, 'queued', JSON.stringify(ok.body));
    const job = await jobIn(
      controller.call,
      ok.body.decisions[0].jobId,
      ['succeeded', 'failed', 'skipped'],
      180_000,
    );
    assert.equal(job.state, 'succeeded', `${job.reason}\n${controller.output().slice(-3000)}`);
    assert.equal(imageOf(await cluster.waitRolledOut('Deployment', 'apps', 'api')), 'api:v1');
    assert.deepEqual(
      cluster.audit.denied({ user: USER }).map((e) => `${e.verb} ${e.requestURI}`),
      [],
      'no request of the controller was denied',
    );
    assert.equal(
      cluster.audit.templateWrites({ user: USER, namespace: 'apps', name: 'api' }).length,
      1,
    );

    const no = await controller.call('POST', 'trigger', alertFor('Deployment', 'elsewhere', 'api'));
    assert.equal(no.status, 202, JSON.stringify(no.body));
    const d = no.body.decisions[0];
    assert.equal(d.decision, 'queued', JSON.stringify(d));
    const refused = await jobIn(
      controller.call,
      d.jobId,
      ['succeeded', 'failed', 'skipped'],
      180_000,
    );
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
          .map((e) => `${e.verb} ${e.objectRef!.apiGroup ?? ''}/${e.objectRef!.resource}`),
      ),
    ].sort();
    const grants = granted(manifest);
    assert.deepEqual(
      used.filter((u) => !grants.includes(u)),
      [],
      'everything used came from the chart',
    );
    const unused = grants.filter((g) => !used.includes(g));
    assert.deepEqual(
      unused,
      [],
      `granted but never used: ${unused.join(', ')}; used: ${used.join(', ')}`,
    );
  });
});
