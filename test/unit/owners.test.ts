// The pure GitOps core: what a workload's labels say about its owners, and what a rollback must
// do about them by policy (contract.md "Workloads managed by GitOps or Helm").
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applicationSetRestoresSpec, automatedSync } from '../../src/owners/argo-application.js';
import { findOwnerHints, parseTrackingId } from '../../src/owners/find-owner-hints.js';
import type { ArgoApp, OwnerFacts } from '../../src/owners/owner-facts.js';
import { gitopsRef, type GitOpsObject } from '../../src/owners/owner-objects.js';
import { planOwnerAction, type OwnerPolicy } from '../../src/owners/plan-owner-action.js';
import { ownerResumed } from '../../src/jobs/job-transitions.js';
import { SuspendedOwners } from '../../src/jobs/suspended-owners.js';
import { ownerKey, type SuspendedOwner } from '../../src/model/owner.js';
import { ownerBlock, suspendedLine } from '../../src/notify/owner-lines.js';
import type { Job } from '../../src/model/job.js';

const WORKLOAD = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'checkout' };
const POLICY: OwnerPolicy = {
  argocd: 'suspend',
  flux: 'suspend',
  namespaceProblem: (ns) =>
    ns === 'locked' ? 'namespace "locked" is not in policy.allowedNamespaces' : undefined,
};
const AUTOMATED = { prune: true, selfHeal: true };

function app(
  name: string,
  o: { automated?: unknown; ns?: string; appSet?: string } = {},
): GitOpsObject {
  return {
    metadata: {
      name,
      namespace: o.ns ?? 'argocd',
      ...(o.appSet
        ? { ownerReferences: [{ kind: 'ApplicationSet', name: o.appSet, controller: true }] }
        : {}),
    },
    spec: {
      project: 'default',
      ...(o.automated === undefined ? {} : { syncPolicy: { automated: o.automated } }),
    },
  };
}

function argo(...apps: Array<GitOpsObject | [GitOpsObject, ArgoApp['appSet']]>): OwnerFacts {
  return {
    workload: WORKLOAD,
    annotations: {},
    hints: { argocd: { candidates: [], via: 'tracking-id' } },
    argocd: {
      apps: apps.map((a) => {
        const [obj, appSet] = Array.isArray(a) ? a : [a, undefined];
        const ref = gitopsRef('Application', obj.metadata.namespace ?? '', obj.metadata.name ?? '');
        return { ref, app: obj, ...(appSet ? { appSet } : {}) };
      }),
    },
  };
}

describe('owner hints from the workload', () => {
  test('Argo CD tracking id, with and without the namespace prefix', () => {
    assert.deepEqual(
      parseTrackingId('checkout:apps/Deployment:shop/checkout', ['argocd']),
      gitopsRef('Application', 'argocd', 'checkout'),
    );
    assert.deepEqual(
      parseTrackingId('team-a_checkout:apps/Deployment:shop/checkout', ['argocd']),
      gitopsRef('Application', 'team-a', 'checkout'),
    );
    assert.equal(parseTrackingId(':apps/Deployment:shop/x', ['argocd']), undefined);
  });

  test('instance label: one candidate per Argo CD namespace (confirmed later)', () => {
    const h = findOwnerHints({ labels: { 'app.kubernetes.io/instance': 'web' } }, [
      'argocd',
      'argo-apps',
    ]);
    assert.equal(h.argocd?.via, 'instance-label');
    assert.deepEqual(
      h.argocd?.candidates.map((c) => `${c.namespace}/${c.name}`),
      ['argocd/web', 'argo-apps/web'],
    );
  });

  test('Flux and Helm labels and annotations', () => {
    const h = findOwnerHints(
      {
        namespace: 'shop',
        labels: {
          'kustomize.toolkit.fluxcd.io/name': 'apps',
          'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
          'helm.toolkit.fluxcd.io/name': 'checkout',
          'helm.toolkit.fluxcd.io/namespace': 'shop',
        },
        annotations: { 'meta.helm.sh/release-name': 'checkout' },
      },
      ['argocd'],
    );
    assert.deepEqual(h.fluxKustomization, gitopsRef('Kustomization', 'flux-system', 'apps'));
    assert.deepEqual(h.fluxHelmRelease, gitopsRef('HelmRelease', 'shop', 'checkout'));
    assert.deepEqual(h.helm, { release: 'checkout', namespace: 'shop' });
    assert.equal(h.argocd, undefined);
  });
});

describe('Argo CD Applications', () => {
  test('automated sync is on when present, unless enabled: false (Argo CD 3.1+)', () => {
    assert.deepEqual(automatedSync(app('a', { automated: AUTOMATED })), AUTOMATED);
    assert.deepEqual(automatedSync(app('a', { automated: {} })), {});
    assert.equal(
      automatedSync(app('a', { automated: { ...AUTOMATED, enabled: false } })),
      undefined,
    );
    assert.equal(automatedSync(app('a')), undefined);
  });

  test('an ApplicationSet restores its Applications unless create-only or ignoring the sync policy', () => {
    const set = (spec: Record<string, unknown>): GitOpsObject => ({
      metadata: { name: 's' },
      spec,
    });
    assert.equal(applicationSetRestoresSpec(set({}), 'a'), true);
    assert.equal(
      applicationSetRestoresSpec(set({ syncPolicy: { applicationsSync: 'create-only' } }), 'a'),
      false,
    );
    assert.equal(
      applicationSetRestoresSpec(set({ syncPolicy: { applicationsSync: 'create-update' } }), 'a'),
      true,
    );
    const ignoring = (name?: string) =>
      set({
        ignoreApplicationDifferences: [
          { ...(name ? { name } : {}), jsonPointers: ['/spec/syncPolicy'] },
        ],
      });
    assert.equal(applicationSetRestoresSpec(ignoring(), 'a'), false);
    assert.equal(applicationSetRestoresSpec(ignoring('a'), 'a'), false);
    assert.equal(applicationSetRestoresSpec(ignoring('b'), 'a'), true);
  });
});

describe('planOwnerAction', () => {
  test('no owner: nothing to do', () => {
    const plan = planOwnerAction({ workload: WORKLOAD, annotations: {}, hints: {} }, POLICY);
    assert.equal(plan.action, 'none');
    assert.equal(plan.owner, 'none');
  });

  test('Argo CD with automated sync: remove spec.syncPolicy.automated (tested first), undo puts it back', () => {
    const plan = planOwnerAction(argo(app('checkout', { automated: AUTOMATED })), POLICY);
    assert.equal(plan.action, 'suspend');
    assert.equal(plan.owner, 'argocd');
    const [s] = plan.suspensions;
    assert.deepEqual(s?.patch, {
      type: 'json',
      body: [
        { op: 'test', path: '/spec/syncPolicy/automated', value: AUTOMATED },
        { op: 'remove', path: '/spec/syncPolicy/automated' },
      ],
    });
    assert.deepEqual(s?.undo, {
      type: 'merge',
      body: { spec: { syncPolicy: { automated: AUTOMATED } } },
    });
    assert.equal(
      s?.resumeCommand,
      `kubectl -n argocd patch applications.argoproj.io checkout --type merge -p '{"spec":{"syncPolicy":{"automated":{"prune":true,"selfHeal":true}}}}'`,
    );
  });

  test('Argo CD with auto-sync off (absent, or enabled: false): rolled back with a note', () => {
    for (const automated of [undefined, { ...AUTOMATED, enabled: false }]) {
      const plan = planOwnerAction(argo(app('checkout', automated ? { automated } : {})), POLICY);
      assert.equal(plan.action, 'note');
      assert.deepEqual(plan.suspensions, []);
    }
  });

  test('policy.owners.argocd skip: skipped with the reason, nothing suspended', () => {
    const plan = planOwnerAction(argo(app('checkout', { automated: AUTOMATED })), {
      ...POLICY,
      argocd: 'skip',
    });
    assert.equal(plan.action, 'skip');
    assert.match(plan.reason, /policy\.owners\.argocd is skip/);
    assert.deepEqual(plan.suspensions, []);
  });

  test('app-of-apps: automated parents are suspended first; a manual parent stops the walk', () => {
    const both = planOwnerAction(
      argo(
        app('child', { automated: AUTOMATED }),
        app('root', { automated: AUTOMATED }),
        app('top', { automated: AUTOMATED }),
      ),
      POLICY,
    );
    assert.deepEqual(
      both.suspensions.map((s) => [s.object.name, s.role]),
      [
        ['top', 'parent'],
        ['root', 'parent'],
        ['child', 'owner'],
      ],
    );
    const stopped = planOwnerAction(
      argo(
        app('child', { automated: AUTOMATED }),
        app('root'),
        app('top', { automated: AUTOMATED }),
      ),
      POLICY,
    );
    assert.deepEqual(
      stopped.suspensions.map((s) => s.object.name),
      ['child'],
    );
  });

  test('ApplicationSet that would restore the spec, unreadable, or a namespace not allowed: skipped', () => {
    const cases: Array<[OwnerFacts, RegExp]> = [
      [
        argo([app('a', { automated: AUTOMATED, appSet: 's' }), { name: 's', restores: true }]),
        /generated by ApplicationSet argocd\/s, which would turn automated sync back on/,
      ],
      [
        argo([app('a', { automated: AUTOMATED, appSet: 's' }), { name: 's', error: 'forbidden' }]),
        /ApplicationSet argocd\/s, which cannot be read: forbidden/,
      ],
      [
        argo(app('a', { automated: AUTOMATED }), [
          app('root', { automated: AUTOMATED, appSet: 's' }),
          { name: 's', restores: true },
        ]),
        /Application argocd\/root is generated by ApplicationSet/,
      ],
      [
        argo(app('a', { automated: AUTOMATED, ns: 'locked' })),
        /cannot be suspended: namespace "locked"/,
      ],
    ];
    for (const [facts, reason] of cases) {
      const plan = planOwnerAction(facts, POLICY);
      assert.equal(plan.action, 'skip');
      assert.match(plan.reason, reason);
      assert.deepEqual(plan.suspensions, []);
    }
    const createOnly = planOwnerAction(
      argo([app('a', { automated: AUTOMATED, appSet: 's' }), { name: 's', restores: false }]),
      POLICY,
    );
    assert.equal(createOnly.action, 'suspend');
  });

  test('an Application the tracking id names but that cannot be read: skipped, says how to grant access', () => {
    const plan = planOwnerAction(
      {
        workload: WORKLOAD,
        annotations: {},
        hints: {},
        argocd: { error: '403 forbidden', ref: gitopsRef('Application', 'argocd', 'x') },
      },
      POLICY,
    );
    assert.equal(plan.action, 'skip');
    assert.match(plan.advice ?? '', /gitops\.argocd\.enabled/);
  });

  const hrHints = {
    fluxHelmRelease: gitopsRef('HelmRelease', 'shop', 'checkout'),
    helm: { release: 'checkout', namespace: 'shop' },
  };
  test('Flux HelmRelease: spec.suspend true by merge patch; already suspended → note; unreadable → skip; gone → Helm note', () => {
    const found = (spec: Record<string, unknown>) => ({
      found: { metadata: { name: 'checkout' }, spec },
    });
    const suspend = planOwnerAction(
      { workload: WORKLOAD, annotations: {}, hints: hrHints, helmRelease: found({}) },
      POLICY,
    );
    assert.equal(suspend.action, 'suspend');
    assert.equal(suspend.owner, 'flux_helmrelease');
    assert.deepEqual(suspend.suspensions[0]?.patch, {
      type: 'merge',
      body: { spec: { suspend: true } },
    });
    assert.equal(suspend.suspensions[0]?.resumeCommand, 'flux resume helmrelease checkout -n shop');
    assert.equal(
      planOwnerAction(
        {
          workload: WORKLOAD,
          annotations: {},
          hints: hrHints,
          helmRelease: found({ suspend: true }),
        },
        POLICY,
      ).action,
      'note',
    );
    assert.equal(
      planOwnerAction(
        { workload: WORKLOAD, annotations: {}, hints: hrHints, helmRelease: { error: 'x' } },
        POLICY,
      ).action,
      'skip',
    );
    assert.equal(
      planOwnerAction(
        { workload: WORKLOAD, annotations: {}, hints: hrHints, helmRelease: found({}) },
        { ...POLICY, flux: 'skip' },
      ).action,
      'skip',
    );
    const gone = planOwnerAction(
      { workload: WORKLOAD, annotations: {}, hints: hrHints, helmRelease: { missing: true } },
      POLICY,
    );
    assert.equal(gone.owner, 'helm');
    assert.equal(gone.action, 'note');
    assert.match(gone.reason, /history still names the bad revision/);
  });

  test('Flux Kustomization: the annotation rides on the rollback patch; already disabled → note; skip policy → skip', () => {
    const hints = { fluxKustomization: gitopsRef('Kustomization', 'flux-system', 'apps') };
    const plan = planOwnerAction({ workload: WORKLOAD, annotations: {}, hints }, POLICY);
    assert.equal(plan.action, 'suspend');
    assert.deepEqual(plan.workloadAnnotations, {
      'kustomize.toolkit.fluxcd.io/reconcile': 'disabled',
    });
    assert.equal(plan.suspensions[0]?.patch, undefined);
    assert.equal(
      plan.suspensions[0]?.resumeCommand,
      'kubectl -n shop annotate deployment checkout kustomize.toolkit.fluxcd.io/reconcile-',
    );
    const already = planOwnerAction(
      {
        workload: WORKLOAD,
        annotations: { 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' },
        hints,
      },
      POLICY,
    );
    assert.equal(already.action, 'note');
    assert.equal(
      planOwnerAction({ workload: WORKLOAD, annotations: {}, hints }, { ...POLICY, flux: 'skip' })
        .action,
      'skip',
    );
  });
});

describe('suspended owners on jobs', () => {
  const owner: SuspendedOwner = {
    owner: 'argocd',
    object: gitopsRef('Application', 'shop', 'checkout'),
    role: 'owner',
    change: 'removed spec.syncPolicy.automated (automated sync off)',
    resumeCommand:
      'kubectl -n shop patch applications.argoproj.io checkout --type merge -p \'{"spec":{"syncPolicy":{"automated":{}}}}\'',
    suspendedAt: '2026-11-29T20:00:00.000Z',
  };
  const job = {
    id: 'j1',
    target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
    owner: { owner: 'argocd', action: 'suspended', reason: 'r', suspended: [owner] },
    timeline: [],
  } as unknown as Job;

  test('the Slack line names the Application and the exact command', () => {
    assert.equal(
      suspendedLine(owner),
      `Argo CD auto-sync is off on Application shop/checkout: revert the change in Git, then turn it back on: \`${owner.resumeCommand}\``,
    );
  });

  test('a skipped or noted owner tells a human what to do; a suspended one shows its command until resumed', () => {
    const text = (j: Job) => JSON.stringify(ownerBlock(j) ?? null);
    const skipped = {
      ...job,
      owner: {
        owner: 'argocd',
        action: 'skipped',
        reason: 'r',
        advice: 'revert the change in Git & sync',
      },
    } as Job;
    assert.match(text(skipped), /What a human must do:\* revert the change in Git &amp; sync/);
    assert.match(text(job), /Argo CD auto-sync is off on Application shop\/checkout/);
    const resumed = ownerResumed(job, ownerKey(owner), 0);
    assert.doesNotMatch(text(resumed), /auto-sync is off/);
  });

  test('the index lists it until a human resumes it; the job records when', () => {
    const index = new SuspendedOwners();
    index.changed(undefined, job);
    assert.deepEqual(index.counts(), { argocd: 1, flux_kustomization: 0, flux_helmrelease: 0 });
    const resumed = ownerResumed(job, ownerKey(owner), Date.parse('2026-11-29T21:00:00Z'));
    assert.equal(resumed.owner?.suspended?.[0]?.resumedAt, '2026-11-29T21:00:00.000Z');
    assert.equal(resumed.timeline.at(-1)?.event, 'owner_resumed');
    index.changed(job, resumed);
    assert.deepEqual(index.list(), []);
    assert.equal(
      ownerResumed(resumed, ownerKey(owner), 0),
      resumed,
      'a second resume changes nothing',
    );
  });
});
