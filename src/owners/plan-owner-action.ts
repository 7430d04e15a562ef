// The pure heart of GitOps handling: from what the cluster says about a workload's owners and
// from `policy.owners`, what a rollback must do first so that it sticks (contract.md "Workloads managed
// by GitOps or Helm"). Nothing here reads or writes the cluster.
import type { PlanOwner } from '../model/executor.js';
import type { JobOwner, ObjectRef, OwnerKind, SuspendedOwner } from '../model/owner.js';
import { automatedSwitches, automatedSync, applicationSetOf } from './argo-application.js';
import type { ArgoApp, OwnerFacts } from './owner-facts.js';
import { FLUX_RECONCILE, refText } from './owner-objects.js';
import { resumeCommand } from './resume-command.js';

export type OwnerMode = 'suspend' | 'skip';

export interface OwnerPolicy {
  argocd: OwnerMode;
  flux: OwnerMode;
  /** Why the controller may not touch objects in this namespace, or undefined when it may. */
  namespaceProblem(namespace: string): string | undefined;
}

/** `policy.owners` and where Argo CD Applications live. */
export interface OwnerSettings extends OwnerPolicy {
  argocdNamespaces: readonly string[];
}

export const DEFAULT_OWNER_SETTINGS: OwnerSettings = {
  argocd: 'suspend',
  flux: 'suspend',
  argocdNamespaces: ['argocd'],
  namespaceProblem: () => undefined,
};

/** One change that stops an owner from reverting the rollback. */
export interface Suspension extends Omit<SuspendedOwner, 'suspendedAt' | 'resumedAt'> {
  /** The patch to send to `object`; none when it rides on the rollback patch (Flux Kustomization). */
  patch?: { type: 'json' | 'merge'; body: unknown };
  /** The patch that undoes it, when the rollback never happens. */
  undo?: { type: 'json' | 'merge'; body: unknown };
}

export interface OwnerPlan {
  owner: OwnerKind;
  name?: string;
  /** `suspend`: suspensions first, then the rollback; `skip`: no rollback; `note`: roll back and say so. */
  action: 'suspend' | 'skip' | 'note' | 'none';
  reason: string;
  advice?: string;
  /** In the order to apply them: app-of-apps roots first, so nothing above turns a child back on. */
  suspensions: Suspension[];
  /** Annotations the rollback patch adds to the workload. */
  workloadAnnotations: Record<string, string>;
}

const MAX_PARENTS = 5;

export function planOwnerAction(facts: OwnerFacts, policy: OwnerPolicy): OwnerPlan {
  const { hints } = facts;
  const workload = refText(facts.workload);
  if (facts.argocd) return planArgo(facts.argocd, workload, policy);
  if (hints.fluxHelmRelease && facts.helmRelease && !('missing' in facts.helmRelease))
    return planHelmRelease(facts, hints.fluxHelmRelease, policy);
  if (hints.fluxKustomization) return planKustomization(facts, hints.fluxKustomization, policy);
  if (hints.helm) {
    const { release, namespace } = hints.helm;
    return {
      owner: 'helm',
      name: `Helm release ${namespace}/${release}`,
      action: 'note',
      reason: `${workload} belongs to Helm release ${namespace}/${release}: rolled back, but the release's history still names the bad revision`,
      advice: `the next \`helm upgrade\` starts from the bad values: fix the chart values, or run \`helm history ${release} -n ${namespace}\` and \`helm rollback ${release} <REVISION> -n ${namespace}\``,
      suspensions: [],
      workloadAnnotations: {},
    };
  }
  return planNone();
}

function planArgo(
  chain: NonNullable<OwnerFacts['argocd']>,
  workload: string,
  policy: OwnerPolicy,
): OwnerPlan {
  const base = { owner: 'argocd' as const, suspensions: [], workloadAnnotations: {} };
  if ('error' in chain) {
    return {
      ...base,
      name: refText(chain.ref),
      action: 'skip',
      reason: `${workload} is tracked by Argo CD ${refText(chain.ref)}, which cannot be read: ${chain.error}`,
      advice:
        'let the controller read and patch Argo CD Applications (chart value gitops.argocd.enabled), or roll back in Git',
    };
  }
  const [owner] = chain.apps;
  if (!owner) return planNone();
  const name = refText(owner.ref);
  if (!automatedSync(owner.app)) {
    return {
      ...base,
      name,
      action: 'note',
      reason: `${workload} is managed by Argo CD ${name} with automated sync off: nothing reverts the rollback; it shows OutOfSync until Git is reverted`,
    };
  }
  if (policy.argocd === 'skip') {
    return {
      ...base,
      name,
      action: 'skip',
      reason: `${workload} is managed by Argo CD ${name} with automated sync, which would revert a rollback; policy.owners.argocd is skip`,
      advice: `revert the change in Git and let Argo CD sync ${name}`,
    };
  }
  // The owner and every parent above it whose automated sync would restore the child's spec.
  const toSuspend: ArgoApp[] = [];
  for (const app of chain.apps.slice(0, MAX_PARENTS + 1)) {
    if (!automatedSync(app.app)) break;
    toSuspend.push(app);
  }
  for (const app of toSuspend) {
    const blocked = cannotSuspend(app, policy);
    if (blocked)
      return {
        ...base,
        name,
        action: 'skip',
        reason: `${workload} is managed by Argo CD ${name} with automated sync, which would revert a rollback, and ${blocked}`,
        advice: `revert the change in Git and let Argo CD sync ${name}`,
      };
  }
  const suspensions = toSuspend
    .reverse()
    .map((app, i, all) => argoSuspension(app, i < all.length - 1));
  return {
    ...base,
    name,
    action: 'suspend',
    reason: `${workload} is managed by Argo CD ${name}: automated sync turned off on ${suspensions.map((s) => refText(s.object)).join(', ')} before the rollback`,
    suspensions,
  };
}

function cannotSuspend(app: ArgoApp, policy: OwnerPolicy): string | undefined {
  const where = policy.namespaceProblem(app.ref.namespace);
  if (where) return `${refText(app.ref)} cannot be suspended: ${where}`;
  const appSet =
    app.appSet ??
    (applicationSetOf(app.app)
      ? { name: applicationSetOf(app.app) ?? '', error: 'not read' }
      : undefined);
  if (!appSet) return undefined;
  if ('error' in appSet)
    return `${refText(app.ref)} is generated by ApplicationSet ${app.ref.namespace}/${appSet.name}, which cannot be read: ${appSet.error}`;
  if (appSet.restores)
    return `${refText(app.ref)} is generated by ApplicationSet ${app.ref.namespace}/${appSet.name}, which would turn automated sync back on (set its syncPolicy.applicationsSync to create-only, or ignoreApplicationDifferences for /spec/syncPolicy, to allow suspending)`;
  return undefined;
}

/**
 * Removing `spec.syncPolicy.automated` is honoured by every Argo CD version; `enabled: false`
 * is pruned by the structural schema of versions before 3.1 and would silently do nothing. The
 * JSON patch tests the value first, so what the job records as removed is what was there (the
 * resourceVersion would not do: Argo CD rewrites the status all the time).
 */
function argoSuspension(app: ArgoApp, parent: boolean): Suspension {
  const automated = automatedSync(app.app) ?? {};
  return {
    owner: 'argocd',
    object: app.ref,
    role: parent ? 'parent' : 'owner',
    change: 'removed spec.syncPolicy.automated (automated sync off)',
    resumeCommand: resumeCommand('argocd', app.ref, automatedSwitches(automated)),
    previous: automated,
    patch: {
      type: 'json',
      body: [
        { op: 'test', path: '/spec/syncPolicy/automated', value: automated },
        { op: 'remove', path: '/spec/syncPolicy/automated' },
      ],
    },
    undo: { type: 'merge', body: { spec: { syncPolicy: { automated } } } },
  };
}

function planHelmRelease(facts: OwnerFacts, hr: ObjectRef, policy: OwnerPolicy): OwnerPlan {
  const workload = refText(facts.workload);
  const name = refText(hr);
  const base = {
    owner: 'flux_helmrelease' as const,
    name,
    suspensions: [],
    workloadAnnotations: {},
  };
  const lookup = facts.helmRelease;
  if (lookup && 'error' in lookup)
    return {
      ...base,
      action: 'skip',
      reason: `${workload} is installed by Flux ${name}, which cannot be read: ${lookup.error}`,
      advice:
        'let the controller read and patch Flux HelmReleases (chart value gitops.flux.enabled), or roll back in Git',
    };
  if (lookup && 'found' in lookup && lookup.found.spec?.['suspend'] === true)
    return {
      ...base,
      action: 'note',
      reason: `${workload} is installed by Flux ${name}, which is already suspended: nothing reverts the rollback`,
    };
  if (policy.flux === 'skip')
    return {
      ...base,
      action: 'skip',
      reason: `${workload} is installed by Flux ${name}, which would revert a rollback; policy.owners.flux is skip`,
      advice: `revert the change in Git and let Flux reconcile ${name}`,
    };
  const where = policy.namespaceProblem(hr.namespace);
  if (where)
    return {
      ...base,
      action: 'skip',
      reason: `${workload} is installed by Flux ${name}, which would revert a rollback, and cannot be suspended: ${where}`,
      advice: `revert the change in Git and let Flux reconcile ${name}`,
    };
  return {
    ...base,
    action: 'suspend',
    reason: `${workload} is installed by Flux ${name}: suspended before the rollback`,
    suspensions: [
      {
        owner: 'flux_helmrelease',
        object: hr,
        role: 'owner',
        change: 'set spec.suspend: true',
        resumeCommand: resumeCommand('flux_helmrelease', hr),
        patch: { type: 'merge', body: { spec: { suspend: true } } },
        undo: { type: 'merge', body: { spec: { suspend: null } } },
      },
    ],
  };
}

function planKustomization(facts: OwnerFacts, ks: ObjectRef, policy: OwnerPolicy): OwnerPlan {
  const workload = refText(facts.workload);
  const name = refText(ks);
  const base = { owner: 'flux_kustomization' as const, name, suspensions: [] };
  if (facts.annotations[FLUX_RECONCILE] === 'disabled')
    return {
      ...base,
      action: 'note',
      reason: `${workload} is applied by Flux ${name} but already carries ${FLUX_RECONCILE}: disabled`,
      workloadAnnotations: { [FLUX_RECONCILE]: 'disabled' },
    };
  if (policy.flux === 'skip')
    return {
      ...base,
      action: 'skip',
      reason: `${workload} is applied by Flux ${name}, which would revert a rollback; policy.owners.flux is skip`,
      advice: `revert the change in Git and let Flux reconcile ${name}`,
      workloadAnnotations: {},
    };
  return {
    ...base,
    action: 'suspend',
    reason: `${workload} is applied by Flux ${name}: the rollback patch also sets ${FLUX_RECONCILE}: disabled on it`,
    suspensions: [
      {
        owner: 'flux_kustomization',
        object: facts.workload,
        role: 'owner',
        change: `annotated ${FLUX_RECONCILE}: disabled (Kustomization ${ks.namespace}/${ks.name} leaves it alone)`,
        resumeCommand: resumeCommand('flux_kustomization', facts.workload),
      },
    ],
    workloadAnnotations: { [FLUX_RECONCILE]: 'disabled' },
  };
}

function planNone(): OwnerPlan {
  return {
    owner: 'none',
    action: 'none',
    reason: 'no GitOps or Helm owner',
    suspensions: [],
    workloadAnnotations: {},
  };
}

/** The owner decision as recorded on a job (or shown by a dry run, in the future tense). */
export function jobOwnerFrom(plan: OwnerPlan): JobOwner | undefined {
  if (plan.action === 'none') return undefined;
  const action =
    plan.action === 'suspend' ? 'suspended' : plan.action === 'skip' ? 'skipped' : 'noted';
  return {
    owner: plan.owner,
    ...(plan.name ? { name: plan.name } : {}),
    action,
    reason: plan.reason,
    ...(plan.advice ? { advice: plan.advice } : {}),
  };
}

/** The dry run's `owner`. */
export function planOwnerView(plan: OwnerPlan): PlanOwner | undefined {
  if (plan.action === 'none') return undefined;
  return {
    owner: plan.owner,
    ...(plan.name ? { name: plan.name } : {}),
    action: plan.action,
    reason: plan.reason,
    ...(plan.advice ? { advice: plan.advice } : {}),
    ...(plan.suspensions.length
      ? {
          changes: plan.suspensions.map((s) => ({
            object: refText(s.object),
            change: s.change,
            resumeCommand: s.resumeCommand,
          })),
        }
      : {}),
  };
}
