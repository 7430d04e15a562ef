// Argo Rollouts `Rollout` targets on the real control plane with the real Argo Rollouts
// controller (built from the Go module proxy, its CRDs installed): an update in flight is
// aborted (traffic and scale back on stable), a promoted one is undone to the pinned previous
// template and fast-tracked (no canary step or blue-green pause runs again), a workloadRef
// Rollout is undone through its Deployment, and a manual undo after the alert → skipped. Every
// request the rollback controller sends is counted in the API server's audit log.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { alert, payload } from '../support/alerts.js';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import {
  startArgoRollouts,
  type ArgoRolloutsController,
} from '../support/kube-cluster/argo-rollouts.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { until } from '../support/until.js';
import {
  FAST_CONFIG,
  controllerIdentity,
  controllerPod,
  haEnv,
  jobIn,
  startController,
  type RunningController,
} from './support.js';
import { OPERATOR_SECRET, SECRET } from '../support/server.js';
import { replicaKey } from '../../src/http/replica-key.js';
import {
  PENDING_ROLLBACK_ANNOTATION,
  PENDING_ROLLBACK_LABEL,
  signedPending,
  type PendingRollback,
} from '../../src/ha/pending-rollback.js';
import { executorFor, makeContext, makeJob, pinned } from '../integration/kube-executor-helpers.js';

const FINISHED = ['succeeded', 'failed', 'skipped'];
let cluster: KubeCluster;
let argo: ArgoRolloutsController;
let controller: RunningController;
let held: RunningController;
let slack: SlackSink;
let user: string;
let kubeconfig: string;

const base = (ns: string) => `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts`;
const getRollout = (ns: string, name: string) => cluster.http.ok('GET', `${base(ns)}/${name}`);
const template = (name: string, image: string) => ({
  metadata: { labels: { app: name } },
  spec: { containers: [{ name: 'web', image }] },
});
const CANARY = { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } };

async function waitRollout(
  ns: string,
  name: string,
  what: string,
  predicate: (r: any) => boolean,
): Promise<any> {
  let last: any;
  try {
    await until(
      async () => {
        last = await getRollout(ns, name);
        const observed = Number(last.status?.observedGeneration) === last.metadata.generation;
        return observed && predicate(last);
      },
      120_000,
      `Rollout ${ns}/${name}: ${what}`,
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}\nstatus: ${JSON.stringify(last?.status)}\n${argo.logs(15)}`,
    );
  }
  return last;
}

const healthy = (r: any) =>
  r.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash;
const pausedAtStep = (r: any) =>
  r.status?.phase === 'Paused' && r.status.stableRS !== r.status.currentPodHash;

async function createRollout(
  ns: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await cluster.http.ok('POST', base(ns), {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, ...spec },
  });
  await waitRollout(ns, name, 'first revision healthy', healthy);
}

async function setImage(ns: string, name: string, image: string): Promise<void> {
  await cluster.http.ok(
    'PATCH',
    `${base(ns)}/${name}`,
    { spec: { template: template(name, image) } },
    'application/merge-patch+json',
  );
}

/** `kubectl argo rollouts promote --full`, as a human would run it. */
async function promoteFull(ns: string, name: string): Promise<void> {
  await cluster.http.ok(
    'PATCH',
    `${base(ns)}/${name}/status`,
    { status: { promoteFull: true } },
    'application/merge-patch+json',
  );
}

/** A Rollout at v1, updated to v2 and stopped at its pause step (in flight). */
async function inFlight(ns: string, name: string, strategy: unknown = CANARY): Promise<any> {
  await cluster.createNamespace(ns);
  await createRollout(ns, name, { strategy, template: template(name, `${name}:v1`) });
  await setImage(ns, name, `${name}:v2`);
  return waitRollout(ns, name, 'paused at the v2 step', pausedAtStep);
}

/** A Rollout whose v2 went through and is stable (promoted). */
async function promoted(ns: string, name: string, strategy: unknown = CANARY): Promise<any> {
  await inFlight(ns, name, strategy);
  await promoteFull(ns, name);
  return waitRollout(ns, name, 'v2 promoted', (r) => healthy(r) && imageOf(r) === `${name}:v2`);
}

const imageOf = (r: any): string => r.spec.template.spec.containers[0].image as string;

function rolloutAlert(ns: string, name: string, alertname = 'CriticalErrorRate') {
  return payload([
    alert({
      alertname,
      startsAt: new Date(Date.now() + 1000).toISOString(),
      labels: { namespace: ns, rollout: name },
    }),
  ]);
}

/** The alert as a job carries it (for the executor driven from this process). */
function rolloutJobAlert(ns: string, name: string) {
  const labels = { alertname: 'CriticalErrorRate', namespace: ns, rollout: name };
  return {
    alertname: 'CriticalErrorRate',
    fingerprint: `fp-${ns}`,
    startsAt: new Date(Date.now() + 1000).toISOString(),
    labels,
    annotations: {},
    generatorURL: '',
    externalURL: '',
    receivedAt: Date.now(),
  };
}

/**
 * An alert can only blame a deploy that started before it, and the API server records whole
 * seconds: the bad ReplicaSet was created in an earlier second than the alert starts.
 */
async function afterTheBadDeploy(ns: string, name: string): Promise<void> {
  const hash = (await getRollout(ns, name)).status.currentPodHash;
  const bad = (await replicaSetsOf(ns)).find(
    (rs) => rs.metadata.labels['rollouts-pod-template-hash'] === hash,
  );
  const second = Math.floor(Date.parse(bad.metadata.creationTimestamp) / 1000);
  await until(() => Math.floor(Date.now() / 1000) > second, 5000, 'a second after the deploy');
}

/** The dry run, then the alert; resolves with the plan and the finished job. */
async function dryRunThenAlert(
  t: TestContext,
  ns: string,
  name: string,
): Promise<{ plan: any; job: any }> {
  await afterTheBadDeploy(ns, name);
  const dry = await controller.call('POST', 'test', {
    alert_name: 'CriticalErrorRate',
    labels: { severity: 'critical', namespace: ns, rollout: name },
  });
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  const plan = dry.body.plans[0];
  t.diagnostic(`dry run: ${JSON.stringify(dry.body)}`);
  const r = await controller.call('POST', 'trigger', rolloutAlert(ns, name));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const decision = r.body.decisions[0];
  assert.equal(decision.decision, 'queued', JSON.stringify(decision));
  const job = await jobIn(controller.call, decision.jobId, FINISHED, 180_000);
  t.diagnostic(`job: ${job.state}: ${job.reason}`);
  return { plan, job };
}

/** How webhook mode's outcome post begins: an abort and an undo read differently. */
const ABORTED = 'Rollout aborted: traffic back on stable revision';
const ROLLED_BACK = 'Rolled back to revision';

/**
 * The Slack messages about one Rollout, once its outcome was posted (webhook mode posts the
 * outcome after the job finished): each names the kind `Rollout`.
 */
async function slackFor(t: TestContext, ns: string, name: string, outcome: string): Promise<void> {
  const about = () =>
    slack.messages.map((m) => m.body.text ?? '').filter((text) => text.includes(` ${ns}/${name}`));
  await until(
    () => about().some((text) => text.startsWith(outcome)),
    30_000,
    `the "${outcome}" message for ${ns}/${name}`,
  );
  for (const text of about()) {
    t.diagnostic(`slack: ${text}`);
    assert.match(text, new RegExp(`Rollout ${ns}/${name}`));
  }
  const count = (object: string, resource: string) => writes(ns, object, resource).length;
  t.diagnostic(
    `PATCH counts: rollouts ${count(name, 'rollouts')}, rollouts/status ${count(name, 'rollouts/status')}, deployments ${count(`${name}-template`, 'deployments')}`,
  );
}

/** The rollback controller's own writes to one object, dry runs left out. */
function writes(ns: string, name: string, resource: string) {
  return cluster.audit
    .events({ user, verb: 'patch', namespace: ns, name, resource })
    .filter((e) => !/[?&]dryRun=/.test(e.requestURI) && (e.responseStatus?.code ?? 0) < 300);
}

async function replicaSetsOf(ns: string): Promise<any[]> {
  return (await cluster.http.ok('GET', `/apis/apps/v1/namespaces/${ns}/replicasets`)).items;
}

/** How many times an Event with this reason was recorded on the object (aggregated counts). */
async function eventCount(ns: string, name: string, reason: string): Promise<number> {
  const list = await cluster.http.ok(
    'GET',
    `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name=${name}`,
  );
  return list.items
    .filter((e: any) => e.reason === reason)
    .reduce((n: number, e: any) => n + (e.series?.count ?? e.count ?? 1), 0);
}

before(async () => {
  cluster = await startKubeCluster();
  argo = await startArgoRollouts(cluster);
  slack = await startSlackSink();
  const identity = await controllerIdentity(cluster, 'rc-argo');
  ({ user, kubeconfig } = identity);
  const env = { SLACK_WEBHOOK_URL: slack.url };
  controller = await startController({ kubeconfig: identity.kubeconfig, env });
  // Medium confidence waits for a human: the job is pinned, then approved later.
  held = await startController({
    kubeconfig: identity.kubeconfig,
    env,
    config: `${FAST_CONFIG}\nrules:\n  - { alert: CriticalErrorRate, trigger: error_rate_threshold, confidence: medium }\n`,
  });
});
after(async () => {
  await controller?.close();
  await held?.close();
  await slack?.close();
  await argo?.stop();
  await cluster?.stop();
});

describe('Argo Rollouts: in flight → abort', () => {
  test('canary paused at its step: aborted, canary scaled away, traffic on stable', async (t) => {
    const [ns, name] = ['argo-abort', 'cart'];
    const before = await inFlight(ns, name);
    const stable = before.status.stableRS;
    const { plan, job } = await dryRunThenAlert(t, ns, name);
    assert.equal(plan.decision, 'queued');
    assert.match(
      plan.execution.reason,
      /abort the update of Rollout argo-abort\/cart to revision 2/,
    );
    assert.equal(plan.execution.serverDryRun, true);
    assert.deepEqual([plan.fromRevision, plan.toRevision], [2, 1]);

    assert.equal(job.state, 'succeeded', job.reason);
    assert.match(job.reason, /aborted: traffic and 2 replicas back on the stable ReplicaSet/);
    const after = await getRollout(ns, name);
    assert.equal(after.status.abort, true);
    assert.equal(after.status.stableRS, stable);
    const sets = await replicaSetsOf(ns);
    const replicas = (hash: string) =>
      sets.find((rs) => rs.metadata.labels['rollouts-pod-template-hash'] === hash)?.spec.replicas;
    assert.equal(replicas(stable), 2);
    assert.equal(replicas(after.status.currentPodHash), 0);
    // The template still names v2: an abort leaves it (and our patch never touched it).
    assert.equal(imageOf(after), `${name}:v2`);
    assert.equal(writes(ns, name, 'rollouts/status').length, 1);
    assert.equal(writes(ns, name, 'rollouts').length, 0);
    await slackFor(t, ns, name, ABORTED);
  });
});

describe('Argo Rollouts: promoted → pinned undo + fast-track', () => {
  test('canary: back on v1 through a full promotion, no canary step run again', async (t) => {
    const [ns, name] = ['argo-undo', 'shop'];
    const v1Hash = (await replicaSetsAfterFirst(ns, name)).v1Hash;
    const { plan, job } = await dryRunThenAlert(t, ns, name);
    assert.match(
      plan.execution.reason,
      /undo Rollout argo-undo\/shop from revision 2 \(promoted\) to 1, then promote it fully once the controller has observed the new template/,
    );
    assert.deepEqual(plan.changes.images, [
      { container: 'web', from: `${name}:v2`, to: `${name}:v1` },
    ]);
    assert.equal(job.state, 'succeeded', job.reason);
    const timeline = job.timeline.map((e: any) => e.message).join('\n');
    assert.match(timeline, /requested a full promotion \(status.promoteFull\)/);
    const after = await getRollout(ns, name);
    assert.equal(imageOf(after), `${name}:v1`);
    // The old ReplicaSet is stable again (reused, not a copy).
    assert.equal(after.status.stableRS, v1Hash);
    assert.equal(after.status.phase, 'Healthy');
    // The indefinite pause step never ran for the rollback: it would still be waiting.
    assert.equal(await eventCount(ns, name, 'RolloutPaused'), 1);
    assert.equal(writes(ns, name, 'rollouts').length, 1);
    assert.equal(writes(ns, name, 'rollouts/status').length, 1);
    await slackFor(t, ns, name, ROLLED_BACK);
  });

  test('canary with spec.rollbackWindow covering the target: Argo skips the steps by itself', async (t) => {
    const [ns, name] = ['argo-window', 'books'];
    await cluster.createNamespace(ns);
    await createRollout(ns, name, {
      strategy: CANARY,
      rollbackWindow: { revisions: 2 },
      template: template(name, `${name}:v1`),
    });
    // Argo's window needs the target ReplicaSet strictly older than the stable one in whole
    // seconds (creation times have second resolution): v2 is made in a later second than v1.
    const [v1] = await replicaSetsOf(ns);
    const v1Second = Math.floor(Date.parse(v1.metadata.creationTimestamp) / 1000);
    await until(() => Math.floor(Date.now() / 1000) > v1Second, 5000, 'the next second');
    await setImage(ns, name, `${name}:v2`);
    await waitRollout(ns, name, 'paused at the v2 step', pausedAtStep);
    await promoteFull(ns, name);
    await waitRollout(ns, name, 'v2 promoted', (r) => healthy(r) && imageOf(r) === `${name}:v2`);
    const { plan, job } = await dryRunThenAlert(t, ns, name);
    assert.match(
      plan.execution.reason,
      /then let spec.rollbackWindow \(2 revisions\) skip the canary steps and analysis$/,
    );
    assert.equal(job.state, 'succeeded', job.reason);
    const timeline = job.timeline.map((e: any) => e.message).join('\n');
    assert.match(timeline, /spec.rollbackWindow covers the target/);
    // No promoteFull: Argo promoted the rollback by itself.
    assert.equal(writes(ns, name, 'rollouts/status').length, 0);
    assert.equal(await eventCount(ns, name, 'RolloutPaused'), 1);
    assert.equal(imageOf(await getRollout(ns, name)), `${name}:v1`);
    assert.equal(writes(ns, name, 'rollouts').length, 1);
    await slackFor(t, ns, name, ROLLED_BACK);
  });

  test('blue-green: back on v1, the active Service on the old ReplicaSet', async (t) => {
    const [ns, name] = ['argo-bg', 'pay'];
    await cluster.createNamespace(ns);
    await cluster.http.ok('POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name: `${name}-active` },
      spec: { selector: { app: name }, ports: [{ port: 80 }] },
    });
    const blueGreen = {
      blueGreen: { activeService: `${name}-active`, autoPromotionEnabled: false },
    };
    await createRollout(ns, name, { strategy: blueGreen, template: template(name, `${name}:v1`) });
    const v1 = await getRollout(ns, name);
    await setImage(ns, name, `${name}:v2`);
    await waitRollout(ns, name, 'v2 waiting for promotion', pausedAtStep);
    await promoteFull(ns, name);
    await waitRollout(ns, name, 'v2 promoted', (r) => healthy(r) && imageOf(r) === `${name}:v2`);
    const { plan, job } = await dryRunThenAlert(t, ns, name);
    assert.match(
      plan.execution.reason,
      /undo Rollout argo-bg\/pay from revision 2 \(promoted\) to 1/,
    );
    assert.equal(job.state, 'succeeded', job.reason);
    const after = await getRollout(ns, name);
    assert.equal(imageOf(after), `${name}:v1`);
    assert.equal(after.status.stableRS, v1.status.stableRS);
    assert.equal(after.status.blueGreen.activeSelector, v1.status.stableRS);
    const service = await cluster.http.ok(
      'GET',
      `/api/v1/namespaces/${ns}/services/${name}-active`,
    );
    assert.equal(service.spec.selector['rollouts-pod-template-hash'], v1.status.stableRS);
    assert.equal(writes(ns, name, 'rollouts').length, 1);
    assert.ok(writes(ns, name, 'rollouts/status').length <= 1);
    await slackFor(t, ns, name, ROLLED_BACK);
  });

  test('workloadRef: the referenced Deployment template is undone, the Rollout follows', async (t) => {
    const [ns, name] = ['argo-ref', 'ship'];
    const v1 = await workloadRefPromoted(ns, name);
    const { plan, job } = await dryRunThenAlert(t, ns, name);
    assert.match(
      plan.execution.reason,
      /through the template of Deployment ship-template \(workloadRef\)/,
    );
    assert.equal(job.state, 'succeeded', job.reason);
    const deployment = await cluster.get('Deployment', ns, `${name}-template`);
    assert.equal(deployment.spec.template.spec.containers[0].image, `${name}:v1`);
    assert.equal((await getRollout(ns, name)).status.stableRS, v1.status.stableRS);
    assert.equal(
      writes(ns, `${name}-template`, 'deployments').length,
      1,
      'one template PATCH on the Deployment',
    );
    assert.equal(writes(ns, name, 'rollouts').length, 0);
    assert.equal(writes(ns, name, 'rollouts/status').length, 1);
    await slackFor(t, ns, name, ROLLED_BACK);
  });
});

describe('Argo Rollouts: pinned', () => {
  test('a manual `kubectl argo rollouts undo` after the alert started → skipped, nothing sent', async (t) => {
    const [ns, name] = ['argo-manual', 'mail'];
    await promoted(ns, name);
    const r = await held.call('POST', 'trigger', rolloutAlert(ns, name));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.decisions[0].jobId as string;
    assert.equal(r.body.decisions[0].decision, 'awaiting_approval');
    await until(
      async () => (await held.call('GET', `jobs/${id}`)).body.toRevision !== undefined,
      30_000,
      'the held job to be pinned',
    );
    // What the plugin's undo sends: the previous ReplicaSet's template, hash label stripped.
    const v1 = (await replicaSetsOf(ns)).find(
      (rs) => rs.metadata.annotations['rollout.argoproj.io/revision'] === '1',
    );
    const tpl = structuredClone(v1.spec.template);
    delete tpl.metadata.labels['rollouts-pod-template-hash'];
    await cluster.http.ok(
      'PATCH',
      `${base(ns)}/${name}`,
      [{ op: 'replace', path: '/spec/template', value: tpl }],
      'application/json-patch+json',
    );
    await waitRollout(
      ns,
      name,
      'the manual undo rolled out',
      (ro) => ro.status.currentPodHash === v1.metadata.labels['rollouts-pod-template-hash'],
    );
    const approved = await held.call('POST', `jobs/${id}/approve`, {});
    assert.equal(approved.status, 202, JSON.stringify(approved.body));
    const job = await jobIn(held.call, id, FINISHED, 60_000);
    t.diagnostic(`job: ${job.state}: ${job.reason}`);
    assert.equal(job.state, 'skipped', job.reason);
    assert.match(job.reason, /^workload moved on: revision 3 is current, alert was for 2$/);
    await slackFor(t, ns, name, 'Rollback skipped');
    assert.equal(writes(ns, name, 'rollouts').length, 0);
    assert.equal(writes(ns, name, 'rollouts/status').length, 0);
  });
});

describe('Argo Rollouts: the permission check', () => {
  test('asks for rollouts and rollouts/status where the API server serves them, and names what is missing', async (t) => {
    // The controller bound to cluster-admin: the Rollout permissions are checked and granted.
    const all = (await controller.call('GET', 'status')).body.permissions;
    t.diagnostic(`cluster-admin: ${JSON.stringify(all)}`);
    assert.equal(all.checked, 13, JSON.stringify(all));
    assert.deepEqual(all.missing, []);
    // Kubernetes' own `edit` role knows nothing of argoproj.io (as the chart without
    // argoRollouts.enabled): the three Rollout permissions are reported missing.
    const identity = await controllerIdentity(cluster, 'rc-argo-edit', 'edit');
    const edit = await startController({ kubeconfig: identity.kubeconfig });
    try {
      const report = (await edit.call('GET', 'status')).body.permissions;
      t.diagnostic(`edit: ${JSON.stringify(report.missing)}`);
      assert.deepEqual(
        report.missing
          .filter((m: any) => m.resource.includes('argoproj.io'))
          .map((m: any) => `${m.verb} ${m.resource}`),
        [
          'get rollouts.argoproj.io',
          'patch rollouts.argoproj.io',
          'patch rollouts.argoproj.io/status',
        ],
      );
    } finally {
      await edit.close();
    }
  });
});

describe('Argo Rollouts: refusals the dry run explains', () => {
  /** The dry run of the shipped rules' alert for the Rollout, now. */
  async function dryRun(t: TestContext, ns: string, name: string): Promise<any> {
    await afterTheBadDeploy(ns, name);
    const dry = await controller.call('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace: ns, rollout: name },
    });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    t.diagnostic(`dry run: ${JSON.stringify(dry.body)}`);
    return dry.body.plans[0];
  }

  test('already aborted by a human, and paused by hand: nothing would be sent, and why', async (t) => {
    await inFlight('argo-refuse-a', 'bell');
    // `kubectl argo rollouts abort`: the same status patch, by someone else.
    await cluster.http.ok(
      'PATCH',
      `${base('argo-refuse-a')}/bell/status`,
      { status: { abort: true } },
      'application/merge-patch+json',
    );
    await waitRollout('argo-refuse-a', 'bell', 'aborted', (r) => !!r.status.abortedAt);
    const aborted = await dryRun(t, 'argo-refuse-a', 'bell');
    assert.equal(aborted.execution.action, 'skip', JSON.stringify(aborted));
    assert.match(
      aborted.execution.reason,
      /^Rollout argo-refuse-a\/bell: revision 2 was already aborted \(status.abort is set: by a human or another tool\)/,
    );

    await promoted('argo-refuse-p', 'horn');
    await cluster.http.ok(
      'PATCH',
      `${base('argo-refuse-p')}/horn`,
      { spec: { paused: true } },
      'application/merge-patch+json',
    );
    await waitRollout('argo-refuse-p', 'horn', 'paused by hand', (r) => r.spec.paused === true);
    const paused = await dryRun(t, 'argo-refuse-p', 'horn');
    assert.equal(paused.execution.action, 'skip', JSON.stringify(paused));
    assert.match(paused.execution.reason, /is paused by hand \(spec.paused\)/);
    for (const [ns, name] of [
      ['argo-refuse-a', 'bell'],
      ['argo-refuse-p', 'horn'],
    ] as const) {
      assert.equal(writes(ns, name, 'rollouts').length, 0);
      assert.equal(writes(ns, name, 'rollouts/status').length, 0);
    }
  });
});

describe("Argo Rollouts: a restart that lost the journal's `patched` record", () => {
  /**
   * The executor as the controller runs it, in this process: its request lands, then the
   * journal append that records it fails (the crash point); recover() then runs on the job as the
   * journal still has it (pinned, running, not patched), as after a restart.
   */
  async function crashAfterTheRequest(ns: string, name: string): Promise<{ job: any; run: any }> {
    await afterTheBadDeploy(ns, name);
    const executor = executorFor(kubeconfig, { pollIntervalMs: 200, requestTimeoutMs: 15_000 });
    const ref = { kind: 'Rollout' as const, namespace: ns, name };
    const job = {
      ...(await pinned(executor, makeJob(ref, { alert: rolloutJobAlert(ns, name) }))),
      startedAt: new Date().toISOString(),
    };
    const crashing = makeContext({
      rolloutTimeoutMs: 300_000,
      onUpdate: (patch) => {
        if (patch.patched) throw new Error('crash: the journal lost the patched record');
      },
    });
    await assert.rejects(executor.execute(job, crashing.ctx), /crash: the journal lost/);
    assert.equal(crashing.updates.at(-1)?.patched, true, 'the request landed before the crash');
    const run = makeContext({ rolloutTimeoutMs: 300_000 });
    const result = await executor.recover!(job, run.ctx);
    return { job, run: { ...run, result } };
  }

  test('workloadRef undo: the record is found on the Deployment; promoted fully, not patched again', async (t) => {
    const [ns, name] = ['argo-crash-ref', 'dock'];
    const v1 = await workloadRefPromoted(ns, name);
    const { run } = await crashAfterTheRequest(ns, name);
    t.diagnostic(`recovered: ${run.result.outcome}: ${run.result.reason}`);
    assert.equal(run.result.outcome, 'succeeded', run.result.reason);
    assert.ok(run.events.some((e: any) => e.event === 'patch_found'));
    assert.equal(run.updates[0]?.patched, true);
    assert.equal(run.updates[0]?.rollout?.argo?.action, 'undo');
    assert.ok(
      run.events.some((e: any) => /requested a full promotion/.test(e.message)),
      'fast-tracked with a full promotion',
    );
    assert.equal((await getRollout(ns, name)).status.stableRS, v1.status.stableRS);
    // One template PATCH (before the crash), one promoteFull (after recover); the pause step of
    // the rollback never ran (it would wait there until the deadline).
    assert.equal(writes(ns, `${name}-template`, 'deployments').length, 1);
    assert.equal(writes(ns, name, 'rollouts/status').length, 1);
    assert.equal(writes(ns, name, 'rollouts').length, 0);
    assert.equal(await eventCount(ns, name, 'RolloutPaused'), 1);
  });

  test('abort: status.abort owned by our field manager is recognised as ours; followed to the end, not skipped', async (t) => {
    const [ns, name] = ['argo-crash-abort', 'till'];
    const before = await inFlight(ns, name);
    const { run } = await crashAfterTheRequest(ns, name);
    t.diagnostic(`recovered: ${run.result.outcome}: ${run.result.reason}`);
    assert.equal(run.result.outcome, 'succeeded', run.result.reason);
    assert.match(
      run.result.reason,
      /^aborted: traffic and 2 replicas back on the stable ReplicaSet/,
    );
    assert.equal(run.updates[0]?.rollout?.argo?.action, 'abort');
    const after = await getRollout(ns, name);
    assert.equal(after.status.stableRS, before.status.stableRS);
    // The API server's record of who set status.abort, after Argo's own status writes.
    const owner = after.metadata.managedFields.find(
      (e: any) => e.subresource === 'status' && 'f:abort' in (e.fieldsV1?.['f:status'] ?? {}),
    );
    t.diagnostic(`status.abort owned by: ${JSON.stringify(owner)}`);
    assert.equal(owner?.manager, 'rollback-controller');
    assert.equal(writes(ns, name, 'rollouts/status').length, 1, 'one abort, never a second');
    assert.equal(writes(ns, name, 'rollouts').length, 0);
  });
});

describe('Argo Rollouts: high availability', () => {
  test("a dead leader's pending Rollout job is adopted by the new leader and rolled back once", async (t) => {
    const [ns, name] = ['argo-ha', 'desk'];
    await promoted(ns, name);
    await afterTheBadDeploy(ns, name);
    // The mark the dead leader left when it accepted the alert (same function, same key).
    const rollout = await getRollout(ns, name);
    const ref = { kind: 'Rollout' as const, namespace: ns, name };
    const pending: PendingRollback = {
      jobId: 'job-of-the-dead-leader',
      alertname: 'CriticalErrorRate',
      fingerprint: 'fp-argo-ha',
      startsAt: new Date(Date.now() + 1000).toISOString(),
      labels: {
        alertname: 'CriticalErrorRate',
        severity: 'critical',
        namespace: ns,
        rollout: name,
      },
      rule: 'CriticalErrorRate',
      trigger: 'error_rate_threshold',
      confidence: 'high',
      fromRevision: 2,
      toRevision: 1,
      createdAt: new Date().toISOString(),
      acceptedBy: 'rc-dead',
    };
    const key = replicaKey(SECRET, OPERATOR_SECRET)!;
    await cluster.http.ok(
      'PATCH',
      `${base(ns)}/${name}`,
      {
        metadata: {
          labels: { [PENDING_ROLLBACK_LABEL]: 'true' },
          annotations: {
            [PENDING_ROLLBACK_ANNOTATION]: signedPending(
              pending,
              { ref, uid: rollout.metadata.uid },
              key,
            ),
          },
        },
      },
      'application/merge-patch+json',
    );
    await controllerPod(cluster, 'rc-argo-leader');
    const leader = await startController({
      kubeconfig,
      env: haEnv('rc-argo-leader', { SLACK_WEBHOOK_URL: slack.url }),
    });
    try {
      const job = await jobIn(leader.call, pending.jobId, FINISHED, 180_000);
      t.diagnostic(`adopted job: ${job.state}: ${job.reason}`);
      assert.equal(job.origin, 'adopted');
      assert.equal(job.state, 'succeeded', job.reason);
      const after = await getRollout(ns, name);
      assert.equal(imageOf(after), `${name}:v1`);
      assert.equal(after.metadata.labels?.[PENDING_ROLLBACK_LABEL], undefined, 'mark cleared');
      assert.equal(
        cluster.audit.templateWrites({ user, namespace: ns, name }).length,
        1,
        'one template PATCH',
      );
      assert.equal(writes(ns, name, 'rollouts/status').length, 1);
      await slackFor(t, ns, name, ROLLED_BACK);
    } finally {
      await leader.close();
    }
  });
});

/**
 * A canary Rollout taking its template from Deployment `<name>-template` (workloadRef), v1 then
 * v2 promoted; resolves with the Rollout as it was on v1.
 */
async function workloadRefPromoted(ns: string, name: string): Promise<any> {
  await cluster.createNamespace(ns);
  await cluster.http.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
    metadata: { name: `${name}-template` },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: template(name, `${name}:v1`),
    },
  });
  await cluster.http.ok('POST', base(ns), {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${name}-template` },
      strategy: CANARY,
    },
  });
  const v1 = await waitRollout(ns, name, 'v1 healthy', healthy);
  await cluster.setImage('Deployment', ns, `${name}-template`, `${name}:v2`);
  await waitRollout(ns, name, 'v2 paused', pausedAtStep);
  await promoteFull(ns, name);
  await waitRollout(
    ns,
    name,
    'v2 promoted',
    (r) => healthy(r) && r.status.stableRS !== v1.status.stableRS,
  );
  return v1;
}

/** A promoted canary Rollout (v1 then v2) and the hash of v1's ReplicaSet. */
async function replicaSetsAfterFirst(ns: string, name: string): Promise<{ v1Hash: string }> {
  await cluster.createNamespace(ns);
  await createRollout(ns, name, { strategy: CANARY, template: template(name, `${name}:v1`) });
  const v1Hash = (await getRollout(ns, name)).status.stableRS as string;
  await setImage(ns, name, `${name}:v2`);
  await waitRollout(ns, name, 'paused at the v2 step', pausedAtStep);
  await promoteFull(ns, name);
  await waitRollout(ns, name, 'v2 promoted', (r) => healthy(r) && imageOf(r) === `${name}:v2`);
  return { v1Hash };
}
