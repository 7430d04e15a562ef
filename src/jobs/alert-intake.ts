// Decides every alert of a payload against the current state, applies the effects in memory so
// later alerts of the same payload see them, then makes it all durable in one journal append.
// Only after that resolves does anything leave the process (queue, Slack, metrics): a crash
// before the fsync loses nothing that was acknowledged, and a failed write undoes everything
// (one batch of the job store).
import type { Alert, AlertPayload } from '../alerts/payload-schema.js';
import type { CompiledRule } from '../config/compile-rules.js';
import type { ClusterConfig, Policy } from '../config/schema.js';
import { clusterDecision } from '../decide/cluster-decision.js';
import { decideAlert } from '../decide/decide-alert.js';
import { instanceKey, type Decision } from '../model/decision.js';
import type { ExecutorName, Job } from '../model/job.js';
import type { ControllerState } from './controller-state.js';
import { ACTIVE_STATES, alertResolved, recovered, start } from './job-transitions.js';
import type { JobStore } from './job-store.js';
import type { JournalRecord } from './journal-record.js';
import { alertRef, newJob } from './new-job.js';

export interface IntakeResult {
  decisions: Decision[];
  /** Jobs created: starting at once (running), for the queue (queued) or waiting (awaiting_approval). */
  created: Job[];
  /** Rule per decision index, for notifications and metrics. */
  rules: Array<CompiledRule | undefined>;
  circuitOpened?: string;
}

export interface IntakeDeps {
  store: JobStore;
  rules: () => readonly CompiledRule[];
  policy: Policy;
  cluster: ClusterConfig;
  newId: () => string;
  /**
   * The runner's answer to "would a job recorded now start at once?" (reserving the slot). Such
   * a job is recorded already started in this same batch: one journal write before it acts.
   */
  starter?: { reserveStart(executor: ExecutorName): boolean; releaseStart(): void };
}

export async function takeAlerts(
  payload: AlertPayload,
  now: number,
  deps: IntakeDeps,
): Promise<IntakeResult> {
  const { policy } = deps;
  const state = deps.store.state;
  const rules = deps.rules();
  const tx = deps.store.begin();
  const result: IntakeResult = { decisions: [], created: [], rules: [] };
  let reserved = 0;

  for (const alert of payload.alerts) {
    const ad =
      clusterDecision(alert, deps.cluster) ?? decideAlert(alert, now, rules, policy, state);
    const batch: JournalRecord[] = [];
    const effect = ad.effect;
    if (effect.kind === 'new_job' && ad.rule) {
      const queued = newJob({
        id: deps.newId(),
        now,
        rule: ad.rule,
        decision: ad.decision,
        alert: alertRef(alert, payload.externalURL, now),
        held: effect.held,
        approvalTtlMs: policy.approvalTtlSeconds * 1000,
      });
      const startsNow = !effect.held && deps.starter?.reserveStart(queued.executor) === true;
      if (startsNow) reserved++;
      const job = startsNow ? start(queued, now) : queued;
      ad.decision.jobId = job.id;
      batch.push({ t: 'job', job });
      result.created.push(job);
    } else if (effect.kind === 'coalesce') {
      batch.push({
        t: 'coalesce',
        at: now,
        jobId: effect.jobId,
        alert: {
          alertname: ad.decision.alertname,
          fingerprint: alert.fingerprint,
          startsAt: alert.startsAt,
        },
      });
    } else if (effect.kind === 'open_circuit') {
      batch.push({ t: 'circuit', at: now, open: true, reason: effect.reason });
      result.circuitOpened = effect.reason;
    } else if (ad.decision.decision === 'resolved') {
      // Only a resolved alert this controller accepts closes its verification (not another cluster's).
      for (const job of recoveredBy(alert, now, state)) batch.push({ t: 'job', job });
    }
    batch.push({
      t: 'decision',
      at: now,
      d: ad.decision,
      ...(ad.final ? { key: instanceKey(alert.fingerprint, alert.startsAt) } : {}),
    });
    tx.apply(batch);
    result.decisions.push(ad.decision);
    result.rules.push(ad.rule);
  }

  try {
    await tx.commit();
  } catch (err) {
    for (; reserved > 0; reserved--) deps.starter?.releaseStart();
    throw err;
  }
  return result;
}

/**
 * The verification loop closes on the *triggering* alert's resolved notification (an attached
 * alert resolving says nothing about the one that started the job). A succeeded job waiting for
 * it becomes `recovered`; a job still queued or running records the resolution so it becomes
 * `recovered` the moment it succeeds instead of waiting out the window.
 */
function recoveredBy(alert: Alert, now: number, state: ControllerState): Job[] {
  const out: Job[] = [];
  const endsAt = Date.parse(alert.endsAt);
  for (const job of state.jobsForAlert(alert.fingerprint)) {
    if (job.alert.startsAt !== alert.startsAt) continue;
    if (job.verdict === 'pending' && job.finishedAt) {
      const finished = Date.parse(job.finishedAt);
      const resolvedAt =
        Number.isFinite(endsAt) && endsAt >= finished && endsAt <= now ? endsAt : now;
      out.push(recovered(job, Math.max(0, (resolvedAt - finished) / 1000), now));
    } else if (ACTIVE_STATES.has(job.state) && !job.alertResolvedAt) {
      out.push(alertResolved(job, now));
    }
  }
  return out;
}
