// A dry run of one alert: what `trigger` would decide now, plus the executor's plan. It runs the
// same decision and the same job construction as a real trigger, and touches nothing.
import type { Alert } from '../alerts/payload-schema.js';
import type { CompiledRule } from '../config/compile-rules.js';
import type { ClusterConfig, Policy } from '../config/schema.js';
import { clusterDecision } from '../decide/cluster-decision.js';
import { decideAlert, type PolicyView } from '../decide/decide-alert.js';
import type { Decision, DecisionKind } from '../model/decision.js';
import type { Executor, Plan } from '../model/executor.js';
import type { ExecutorName, Job } from '../model/job.js';
import type { PreActCheck } from '../model/pre-act-check.js';
import { alertRef, newJob } from './new-job.js';

export interface DryRunPlan {
  alertname: string;
  rule?: string;
  trigger?: string;
  confidence?: string;
  /**
   * Dry run only: `executor_unavailable`, `/trigger` would queue a job that cannot run;
   * `forbidden`, the API server refused a call of the plan (403): `forbidden` names the permission.
   */
  decision: DecisionKind | 'executor_unavailable' | 'forbidden';
  reason: string;
  target?: Decision['target'];
  script?: { path: string; args: string[] };
  fromRevision?: number;
  toRevision?: number;
  changes?: Plan['changes'];
  /** Who else manages the workload (Argo CD, Flux, Helm) and the action that would be taken. */
  owner?: Plan['owner'];
  execution?: { action: Plan['action']; reason: string; serverDryRun: boolean };
  /** The permission the identity lacks (decision `forbidden`). */
  forbidden?: Plan['forbidden'];
}

/** Decisions for which a dry run also asks the executor what it would do. */
const PLAN_DECISIONS: ReadonlySet<DecisionKind> = new Set([
  'queued',
  'awaiting_approval',
  'coalesced',
  'cooldown',
  'paused',
  'circuit_open',
  'notify_only',
  'duplicate',
]);

export async function planDryRun(
  alert: Alert,
  externalURL: string,
  o: {
    now: number;
    rules: readonly CompiledRule[];
    policy: Policy;
    cluster: ClusterConfig;
    view: PolicyView;
    executors: Partial<Record<ExecutorName, Executor>>;
    /** The runner's pre-act checks; those marked `inDryRun` are asked here too. */
    checks?: readonly PreActCheck[];
  },
): Promise<DryRunPlan> {
  const ad =
    clusterDecision(alert, o.cluster) ?? decideAlert(alert, o.now, o.rules, o.policy, o.view);
  const d = ad.decision;
  const plan: DryRunPlan = { alertname: d.alertname, decision: d.decision, reason: d.reason };
  if (d.rule) plan.rule = d.rule;
  if (d.trigger) plan.trigger = d.trigger;
  if (d.confidence) plan.confidence = d.confidence;
  if (d.target) plan.target = d.target;
  if (ad.rule?.script) plan.script = { path: ad.rule.script.path, args: ad.rule.script.args };
  if (!ad.rule || !d.targetKey || !PLAN_DECISIONS.has(d.decision)) return plan;
  const job = newJob({
    id: 'dry-run',
    now: o.now,
    rule: ad.rule,
    decision: d,
    alert: alertRef(alert, externalURL, o.now),
    held: false,
    approvalTtlMs: 0,
  });
  const executor = o.executors[job.executor];
  if (!executor) {
    plan.execution = {
      action: 'unavailable',
      reason: `the ${job.executor} executor is not configured`,
      serverDryRun: false,
    };
    return unavailablePlan(plan, job.executor);
  }
  const p = (await refusal(job, o.checks ?? [])) ?? (await executor.plan(job));
  if (p.fromRevision !== undefined) plan.fromRevision = p.fromRevision;
  if (p.toRevision !== undefined) plan.toRevision = p.toRevision;
  if (p.changes) plan.changes = p.changes;
  if (p.owner) plan.owner = p.owner;
  plan.execution = {
    action: p.action,
    reason: p.reason,
    serverDryRun: p.serverDryRun ?? false,
  };
  if (p.forbidden) return forbiddenPlan(plan, p.forbidden);
  return p.action === 'unavailable' ? unavailablePlan(plan, job.executor) : plan;
}

/** Decisions that would act: with a refused call they become `forbidden`, never `queued`. */
const ACTING: ReadonlySet<DryRunPlan['decision']> = new Set(['queued', 'awaiting_approval']);

function forbiddenPlan(plan: DryRunPlan, f: NonNullable<Plan['forbidden']>): DryRunPlan {
  const out = { ...plan, forbidden: f };
  if (!ACTING.has(plan.decision)) return out;
  const where = f.namespace ? ` in namespace ${f.namespace}` : '';
  return {
    ...out,
    decision: 'forbidden',
    reason: `${plan.reason}; but the API server refuses: this controller may not ${f.verb} ${f.resource}${where} (grant it in the controller's Role; kubectl auth can-i ${f.verb} ${f.resource}${f.namespace ? ` -n ${f.namespace}` : ''} --as <its service account>)`,
  };
}

/** The first dry-run check that would stop the job, as a plan; a check that throws stops it. */
async function refusal(job: Job, checks: readonly PreActCheck[]): Promise<Plan | undefined> {
  for (const c of checks) {
    if (!c.inDryRun || !c.applies(job)) continue;
    const v = await c.check(job).catch((err: Error) => ({
      go: false as const,
      reason: `${c.name} check failed: ${err.message}`,
    }));
    if (!v.go) return { action: 'skip', reason: v.reason };
  }
  return undefined;
}

/** A dry run never claims `queued` for a job its executor could not run (contract.md "POST /test"). */
function unavailablePlan(plan: DryRunPlan, executor: string): DryRunPlan {
  if (plan.decision !== 'queued') return plan;
  const why = plan.execution?.reason ?? 'unknown';
  return {
    ...plan,
    decision: 'executor_unavailable',
    reason: `${plan.reason}; but the ${executor} executor is unavailable (${why}), so the job would fail`,
  };
}
