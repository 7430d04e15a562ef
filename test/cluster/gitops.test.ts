// Rollbacks that stick in GitOps clusters, on the real control plane with the real CRDs of Argo CD
// (an older 2.x and a current 3.x Application CRD, ApplicationSet) and Flux (Kustomization,
// HelmRelease), fetched from their upstream modules (fetch-gitops-crds.sh). A small reconciler
// (gitops-reconciler.ts) plays Argo CD self-heal and Flux reconciliation every second: a plain
// undo is reverted, the controller's rollback (owner suspended first) sticks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startKubeCluster, type KubeCluster } from '../support/kube-cluster/index.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { until } from '../support/until.js';
import { APPS, GitReconciler } from './gitops-reconciler.js';
import {
  FAST_CONFIG,
  alertFor,
  controllerIdentity,
  deployedTwice,
  imageOf,
  jobIn,
  startController,
  type RunningController,
} from './support.js';

const HERE = new URL('.', import.meta.url).pathname;
const KS = '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces';
const HR = '/apis/helm.toolkit.fluxcd.io/v2/namespaces';

let cluster: KubeCluster;
let controller: RunningController;
let skipper: RunningController;
let slack: SlackSink;
let rec: GitReconciler;
let crds: string;

const AUTOMATED = { prune: true, selfHeal: true };

function application(
  name: string,
  o: {
    automated?: unknown;
    annotations?: Record<string, string>;
    ownerReferences?: unknown[];
  } = {},
) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name,
      namespace: 'argocd',
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {}),
    },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: name },
      source: { repoURL: 'https://git.example/shop.git', path: name, targetRevision: 'HEAD' },
      syncPolicy: { automated: o.automated ?? AUTOMATED, syncOptions: ['CreateNamespace=true'] },
    },
  };
}

async function installCrds(files: string[], replace = false): Promise<void> {
  for (const f of files)
    await cluster.kubectl([replace ? 'replace' : 'create', '-f', join(crds, f)]);
  await cluster.waitCrdsEstablished();
}

/** An Argo CD-style Deployment: v1 then v2 rolled out, Git says v2, tracked by `app`. */
async function argoWorkload(ns: string, name: string, app: string): Promise<void> {
  await cluster.createNamespace(ns);
  await deployedTwice(cluster, 'Deployment', ns, name, {
    annotations: { 'argocd.argoproj.io/tracking-id': `${app}:apps/Deployment:${ns}/${name}` },
  });
}

async function trigger(ns: string, name: string, c = controller): Promise<any> {
  const r = await c.call('POST', 'trigger', alertFor('Deployment', ns, name));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.decisions[0].jobId as string;
  return jobIn(c.call, id, ['succeeded', 'failed', 'skipped'], 180_000);
}

async function dryRun(ns: string, name: string, c = controller): Promise<any> {
  const r = await c.call('POST', 'test', {
    alert_name: 'CriticalErrorRate',
    labels: { severity: 'critical', namespace: ns, service: name },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  console.log(`dry run ${ns}/${name}: ${JSON.stringify(r.body.plans[0].owner)}`);
  return r.body.plans[0];
}

async function image(ns: string, name: string): Promise<string> {
  return imageOf(await cluster.get('Deployment', ns, name));
}

/** The Slack text of every message for a job, blocks included. */
function slackFor(jobId: string): string {
  return slack.messages
    .map((m) => JSON.stringify(m.body))
    .filter((t) => t.includes(jobId))
    .join('\n');
}

function slackLines(pattern: RegExp): string[] {
  const out: string[] = [];
  for (const m of slack.messages)
    for (const b of (m.body as any).blocks ?? [])
      for (const line of String(b.text?.text ?? '').split('\n'))
        if (pattern.test(line)) out.push(line);
  return out;
}

/** Runs a printed resume command the way a human would paste it (kubectl only). */
async function runResumeCommand(cmd: string): Promise<void> {
  const m = /^kubectl (.*?)(?: -p '(.*)')?$/.exec(cmd);
  assert.ok(m?.[1], `not a kubectl command: ${cmd}`);
  await cluster.kubectl([...m[1].split(' '), ...(m[2] ? ['-p', m[2]] : [])]);
}

async function status(): Promise<any> {
  return (await controller.call('GET', 'status')).body;
}

async function metric(owner: string): Promise<string | undefined> {
  const text = (await controller.call('GET', '/metrics')).body as string;
  return new RegExp(`^rollback_owners_suspended\\{owner="${owner}"\\} (\\S+)$`, 'm').exec(
    text,
  )?.[1];
}

before(async () => {
  crds = execFileSync('bash', [join(HERE, 'fetch-gitops-crds.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string;
  cluster = await startKubeCluster();
  await installCrds([
    'argocd-v2.14.21/application-crd.yaml',
    'argocd-v2.14.21/applicationset-crd.yaml',
    'flux/kustomizations.yaml',
    'flux/helmreleases.yaml',
  ]);
  await cluster.createNamespace('argocd');
  await cluster.createNamespace('flux-system');
  slack = await startSlackSink();
  const identity = await controllerIdentity(cluster, 'rc-gitops');
  const env = { SLACK_WEBHOOK_URL: slack.url };
  const owners = (mode: string) =>
    `${FAST_CONFIG.replace('policy: {', `policy: { owners: { argocd: ${mode}, flux: ${mode}, resumeCheckSeconds: 0.5 },`)}\nslack: { progressIntervalSeconds: 60 }`;
  controller = await startController({
    kubeconfig: identity.kubeconfig,
    config: owners('suspend'),
    env,
  });
  skipper = await startController({ kubeconfig: identity.kubeconfig, config: owners('skip') });
  rec = new GitReconciler(cluster);
});
after(async () => {
  rec?.stop();
  await controller?.close();
  await skipper?.close();
  await slack?.close();
  await cluster?.stop();
});

describe('Argo CD on its 2.x Application CRD', () => {
  test('a plain undo is reverted by self-heal within seconds (the problem)', async () => {
    await cluster.apply(JSON.stringify(application('plain')));
    await argoWorkload('plain', 'plain', 'plain');
    rec.manage({ by: 'argocd', app: 'plain', ns: 'plain', name: 'plain', image: 'plain:v2' });
    await cluster.kubectl(['rollout', 'undo', 'deployment/plain', '-n', 'plain']);
    await until(async () => (await image('plain', 'plain')) === 'plain:v2', 30_000, 'self-heal');
    assert.ok(rec.reverts.includes('Deployment plain/plain'));
  });

  test('`automated.enabled: false` is pruned by the 2.x schema: auto-sync stays on', async () => {
    await cluster.apply(JSON.stringify(application('pruned')));
    await cluster.http.ok(
      'PATCH',
      `${APPS}/pruned`,
      { spec: { syncPolicy: { automated: { enabled: false } } } },
      'application/merge-patch+json',
    );
    const stored = await cluster.http.ok('GET', `${APPS}/pruned`);
    assert.deepEqual(stored.spec.syncPolicy.automated, AUTOMATED);
  });

  test('suspend: automated sync removed, rollback sticks, Slack says how to turn it back on, a human resuming is noticed', async () => {
    await cluster.apply(JSON.stringify(application('checkout')));
    await argoWorkload('shop', 'checkout', 'checkout');
    rec.manage({
      by: 'argocd',
      app: 'checkout',
      ns: 'shop',
      name: 'checkout',
      image: 'checkout:v2',
    });

    const plan = await dryRun('shop', 'checkout');
    assert.equal(plan.owner.owner, 'argocd');
    assert.equal(plan.owner.action, 'suspend');
    assert.deepEqual(
      plan.owner.changes.map((c: any) => c.object),
      ['Application argocd/checkout'],
    );
    // The dry run changed nothing.
    const untouched = await cluster.http.ok('GET', `${APPS}/checkout`);
    assert.deepEqual(untouched.spec.syncPolicy.automated, AUTOMATED);

    const job = await trigger('shop', 'checkout');
    assert.equal(job.state, 'succeeded', job.reason);
    assert.equal(job.owner.action, 'suspended');
    const app = await cluster.http.ok('GET', `${APPS}/checkout`);
    // Exactly the automated block is gone; everything else Git set is as it was.
    assert.equal(app.spec.syncPolicy.automated, undefined);
    assert.deepEqual(app.spec.syncPolicy.syncOptions, ['CreateNamespace=true']);
    assert.deepEqual(app.spec.source, untouched.spec.source);
    await rec.settle(3);
    assert.equal(await image('shop', 'checkout'), 'checkout:v1', 'the rollback stuck');

    const events = job.timeline.map((e: any) => e.event);
    assert.ok(events.indexOf('owner_suspended') < events.indexOf('patched'), events.join(','));
    await until(() => slackFor(job.id).includes('Argo CD auto-sync is off'), 15_000, 'Slack');
    const cmd = `kubectl -n argocd patch applications.argoproj.io checkout --type merge -p '{"spec":{"syncPolicy":{"automated":{"prune":true,"selfHeal":true}}}}'`;
    const line = `Argo CD auto-sync is off on Application argocd/checkout: revert the change in Git, then turn it back on: \`${cmd}\``;
    assert.ok(
      slackLines(/auto-sync is off on Application argocd\/checkout/).includes(line),
      slackFor(job.id),
    );
    const st = await status();
    assert.deepEqual(
      st.suspendedOwners.map((o: any) => [o.owner, o.object, o.jobId]),
      [['argocd', 'Application argocd/checkout', job.id]],
    );
    assert.equal(await metric('argocd'), '1');

    // A human reverts Git, then pastes the command: the controller notices.
    await runResumeCommand(cmd);
    await until(
      async () => (await status()).suspendedOwners.length === 0,
      15_000,
      'resume noticed',
    );
    assert.equal(await metric('argocd'), '0');
    await until(
      () =>
        slackLines(/Argo CD auto-sync is back on for Application argocd\/checkout/).length === 1,
      15_000,
      'Slack resume message',
    );
    const after = (await controller.call('GET', `jobs/${job.id}`)).body;
    assert.ok(after.timeline.some((e: any) => e.event === 'owner_resumed'));
    // Self-heal works again: "Git" (v2 here, not reverted) wins.
    await until(
      async () => (await image('shop', 'checkout')) === 'checkout:v2',
      30_000,
      'self-heal back',
    );
  });
});

describe('Argo CD on its current 3.x Application CRD', () => {
  before(async () => {
    await installCrds(
      ['argocd-v3.5.7/application-crd.yaml', 'argocd-v3.5.7/applicationset-crd.yaml'],
      true,
    );
  });

  test('app-of-apps: the parent that would turn auto-sync back on is suspended first; the rollback sticks', async () => {
    const childPolicy = {
      automated: { ...AUTOMATED, enabled: true },
      syncOptions: ['CreateNamespace=true'],
    };
    await cluster.apply(JSON.stringify(application('root')));
    await cluster.apply(
      JSON.stringify({
        ...application('payments', {
          automated: childPolicy.automated,
          annotations: {
            'argocd.argoproj.io/tracking-id': 'root:argoproj.io/Application:argocd/payments',
          },
        }),
      }),
    );
    const stored = await cluster.http.ok('GET', `${APPS}/payments`);
    assert.equal(stored.spec.syncPolicy.automated.enabled, true, '3.x keeps `enabled`');
    rec.manage({ by: 'argocd-parent', parent: 'root', child: 'payments', syncPolicy: childPolicy });
    await argoWorkload('pay', 'payments', 'payments');
    rec.manage({
      by: 'argocd',
      app: 'payments',
      ns: 'pay',
      name: 'payments',
      image: 'payments:v2',
    });

    const plan = await dryRun('pay', 'payments');
    assert.deepEqual(
      plan.owner.changes.map((c: any) => c.object),
      ['Application argocd/root', 'Application argocd/payments'],
    );
    const job = await trigger('pay', 'payments');
    assert.equal(job.state, 'succeeded', job.reason);
    for (const name of ['root', 'payments']) {
      const app = await cluster.http.ok('GET', `${APPS}/${name}`);
      assert.equal(app.spec.syncPolicy.automated, undefined, name);
    }
    assert.deepEqual(
      job.owner.suspended.map((o: any) => [o.object.name, o.role]),
      [
        ['root', 'parent'],
        ['payments', 'owner'],
      ],
    );
    await rec.settle(3);
    assert.equal(await image('pay', 'payments'), 'payments:v1');
    assert.ok(!rec.reverts.includes('Application argocd/payments'));
    assert.equal(await metric('argocd'), '2');
  });

  test('instance label: Argo CD only when an Application of that name exists', async () => {
    await cluster.apply(JSON.stringify(application('catalog')));
    await cluster.createNamespace('catalog');
    for (const name of ['catalog', 'catalog-helm'])
      await deployedTwice(cluster, 'Deployment', 'catalog', name, {
        labels: { app: name, 'app.kubernetes.io/instance': name },
        annotations: { 'meta.helm.sh/release-name': name },
      });
    const argoPlan = await dryRun('catalog', 'catalog');
    assert.equal(argoPlan.owner.owner, 'argocd');
    assert.equal(argoPlan.owner.name, 'Application argocd/catalog');
    const helmPlan = await dryRun('catalog', 'catalog-helm');
    assert.equal(helmPlan.owner.owner, 'helm');
  });

  test('ApplicationSet-owned Application: skipped with the reason, nothing changed', async () => {
    const set = await cluster.http.ok(
      'POST',
      '/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets',
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'ApplicationSet',
        metadata: { name: 'orders-set', namespace: 'argocd' },
        spec: {
          generators: [{ list: { elements: [{ name: 'orders' }] } }],
          template: { metadata: { name: '{{name}}' }, spec: application('orders').spec },
        },
      },
    );
    await cluster.apply(
      JSON.stringify(
        application('orders', {
          ownerReferences: [
            {
              apiVersion: 'argoproj.io/v1alpha1',
              kind: 'ApplicationSet',
              name: 'orders-set',
              uid: set.metadata.uid,
              controller: true,
            },
          ],
        }),
      ),
    );
    await argoWorkload('orders', 'orders', 'orders');
    const plan = await dryRun('orders', 'orders');
    assert.equal(plan.owner.action, 'skip');
    const job = await trigger('orders', 'orders');
    assert.equal(job.state, 'skipped');
    assert.match(
      job.reason,
      /generated by ApplicationSet argocd\/orders-set, which would turn automated sync back on/,
    );
    const app = await cluster.http.ok('GET', `${APPS}/orders`);
    assert.deepEqual(app.spec.syncPolicy.automated, AUTOMATED);
    assert.equal(await image('orders', 'orders'), 'orders:v2');
    assert.equal(job.owner.action, 'skipped');
  });
});

describe('Flux', () => {
  test('Kustomization: the workload is annotated reconcile: disabled in the rollback patch; the rollback sticks', async () => {
    await cluster.createNamespace('cart');
    await cluster.http.ok('POST', `${KS}/flux-system/kustomizations`, {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'apps', namespace: 'flux-system' },
      spec: {
        interval: '1m',
        path: './apps',
        prune: true,
        sourceRef: { kind: 'GitRepository', name: 'flux-system' },
      },
    });
    await deployedTwice(cluster, 'Deployment', 'cart', 'cart', {
      labels: {
        app: 'cart',
        'kustomize.toolkit.fluxcd.io/name': 'apps',
        'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
      },
    });
    rec.manage({
      by: 'flux-kustomization',
      kustomization: ['flux-system', 'apps'],
      ns: 'cart',
      name: 'cart',
      image: 'cart:v2',
    });
    const plan = await dryRun('cart', 'cart');
    assert.equal(plan.owner.owner, 'flux_kustomization');
    assert.equal(plan.owner.action, 'suspend');
    const job = await trigger('cart', 'cart');
    assert.equal(job.state, 'succeeded', job.reason);
    const live = await cluster.get('Deployment', 'cart', 'cart');
    assert.equal(live.metadata.annotations['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
    await rec.settle(3);
    assert.equal(await image('cart', 'cart'), 'cart:v1');
    await until(
      () => slackLines(/Flux reconciliation is off for Deployment cart\/cart/).length === 1,
      15_000,
      'Slack',
    );
    assert.equal(await metric('flux_kustomization'), '1');
    const [line] = slackLines(/Flux reconciliation is off for Deployment cart\/cart/);
    await runResumeCommand(/`(.*)`$/.exec(line ?? '')?.[1] ?? '');
    await until(async () => (await metric('flux_kustomization')) === '0', 15_000, 'resume noticed');
    await until(
      async () => (await image('cart', 'cart')) === 'cart:v2',
      30_000,
      'reconciled again',
    );
  });

  test('HelmRelease: suspended before the rollback; the rollback sticks', async () => {
    await cluster.createNamespace('search');
    await cluster.http.ok('POST', `${HR}/search/helmreleases`, {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'search', namespace: 'search' },
      spec: {
        interval: '5m',
        chart: { spec: { chart: 'search', sourceRef: { kind: 'HelmRepository', name: 'charts' } } },
      },
    });
    await deployedTwice(cluster, 'Deployment', 'search', 'search', {
      labels: {
        app: 'search',
        'helm.toolkit.fluxcd.io/name': 'search',
        'helm.toolkit.fluxcd.io/namespace': 'search',
      },
      annotations: {
        'meta.helm.sh/release-name': 'search',
        'meta.helm.sh/release-namespace': 'search',
      },
    });
    rec.manage({
      by: 'flux-helmrelease',
      helmRelease: ['search', 'search'],
      ns: 'search',
      name: 'search',
      image: 'search:v2',
    });
    const plan = await dryRun('search', 'search');
    assert.equal(plan.owner.owner, 'flux_helmrelease');
    const job = await trigger('search', 'search');
    assert.equal(job.state, 'succeeded', job.reason);
    const hr = await cluster.http.ok('GET', `${HR}/search/helmreleases/search`);
    assert.equal(hr.spec.suspend, true);
    await rec.settle(3);
    assert.equal(await image('search', 'search'), 'search:v1');
    await until(
      () =>
        slackLines(
          /^Flux HelmRelease search\/search is suspended: revert the change in Git, then resume it: `flux resume helmrelease search -n search`$/,
        ).length === 1,
      15_000,
      'Slack',
    );
  });
});

describe('Helm and policy skip', () => {
  test('Helm release (no GitOps owner): rolled back, with the note that the release history names the bad revision', async () => {
    await cluster.createNamespace('web');
    await deployedTwice(cluster, 'Deployment', 'web', 'web', {
      labels: { app: 'web', 'app.kubernetes.io/instance': 'web' },
      annotations: { 'meta.helm.sh/release-name': 'web', 'meta.helm.sh/release-namespace': 'web' },
    });
    const plan = await dryRun('web', 'web');
    assert.equal(plan.owner.owner, 'helm');
    assert.equal(plan.owner.action, 'note');
    const job = await trigger('web', 'web');
    assert.equal(job.state, 'succeeded', job.reason);
    assert.equal(job.owner.action, 'noted');
    await until(
      () => /history still names the bad revision/.test(slackFor(job.id)),
      15_000,
      'Slack',
    );
  });

  test('policy.owners skip: the job is skipped with the reason and nothing is touched', async () => {
    await cluster.apply(JSON.stringify(application('billing')));
    await argoWorkload('billing', 'billing', 'billing');
    const plan = await dryRun('billing', 'billing', skipper);
    assert.equal(plan.owner.action, 'skip');
    const job = await trigger('billing', 'billing', skipper);
    assert.equal(job.state, 'skipped');
    assert.match(job.reason, /policy\.owners\.argocd is skip/);
    const app = await cluster.http.ok('GET', `${APPS}/billing`);
    assert.deepEqual(app.spec.syncPolicy.automated, AUTOMATED);
    assert.equal(await image('billing', 'billing'), 'billing:v2');
  });
});

describe('a failure to suspend means no patch', () => {
  test('allowed to read Applications but not to patch them: the job fails, nothing is changed', async () => {
    // The chart's workload permissions, and Applications get only.
    await cluster.http.ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'rc-no-argo-patch' },
      rules: [
        {
          apiGroups: ['apps'],
          resources: ['deployments'],
          verbs: ['get', 'list', 'watch', 'patch'],
        },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create'] },
        { apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get'] },
      ],
    });
    const identity = await controllerIdentity(cluster, 'rc-no-argo-patch', 'rc-no-argo-patch');
    const limited = await startController({ kubeconfig: identity.kubeconfig });
    try {
      await cluster.apply(JSON.stringify(application('ledger')));
      await argoWorkload('ledger', 'ledger', 'ledger');
      const job = await trigger('ledger', 'ledger', limited);
      assert.equal(job.state, 'failed');
      assert.match(
        job.reason,
        /rejected suspending the owner \(dry run\): Application argocd\/ledger: .*403/,
      );
      const app = await cluster.http.ok('GET', `${APPS}/ledger`);
      assert.deepEqual(app.spec.syncPolicy.automated, AUTOMATED);
      assert.equal(await image('ledger', 'ledger'), 'ledger:v2');
      assert.deepEqual(
        cluster.audit.templateWrites({ user: identity.user }),
        [],
        'no rollback patch was sent',
      );
    } finally {
      await limited.close();
    }
  });
});

describe('what Slack said', () => {
  test('one line per owner kind (printed for the record)', () => {
    for (const l of slackLines(
      /auto-sync is|reconciliation is off|is suspended|history still names|back on for/,
    ))
      console.log(`slack: ${l}`);
  });
});
