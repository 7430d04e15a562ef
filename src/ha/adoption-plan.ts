// What a new leader does with the pending-rollback marks it finds (pure): re-create each job it
// does not know under the same id (held for approval if it still was, with its Slack message), with its pinned revision, and record the alert instance so a
// re-sent notification is a duplicate; clear marks that name nothing to do. A mark no replica
// signed for this workload is left alone (and logged); a signed one is decided again under the
// current rules and policy first (redecide-mark.ts), and cleared when that decides no rollback.
import { instanceKey } from '../model/decision.js';
import { adopt, TERMINAL_STATES } from '../jobs/job-transitions.js';
import type { Job } from '../model/job.js';
import { workloadKey } from '../model/workload-ref.js';
import type { JournalRecord } from '../jobs/journal-record.js';
import type { PendingRollback } from './pending-rollback.js';
import type { Redecision } from './redecide-mark.js';
import type { MarkedWorkload } from './workload-marks.js';

export interface AdoptionPlan {
  /** Jobs to journal and queue, oldest first. */
  adopt: Job[];
  records: JournalRecord[];
  /** Marks to remove (jobId undefined: whatever is there). */
  clear: Array<{ ref: MarkedWorkload['ref']; jobId?: string; why: string }>;
  /** Marks left alone, with why (for the log). */
  ignored: Array<{ ref: MarkedWorkload['ref']; jobId: string; why: string }>;
}

export interface AdoptionView {
  jobs: ReadonlyMap<string, Job>;
  activeJob(targetKey: string): Job | undefined;
}

export function adoptionPlan(
  marked: readonly MarkedWorkload[],
  view: AdoptionView,
  o: {
    now: number;
    identity: string;
    /** The namespace policy as it is now: a mark is a request, not a decision. */
    namespaceDenied?: (namespace: string) => string | undefined;
    /** The alert decided again under the current rules and policy (redecide-mark.ts). */
    redecide?: (pending: PendingRollback, ref: MarkedWorkload['ref']) => Redecision;
  },
): AdoptionPlan {
  const plan: AdoptionPlan = { adopt: [], records: [], clear: [], ignored: [] };
  const sorted = [...marked].sort((a, b) =>
    (a.pending?.createdAt ?? '').localeCompare(b.pending?.createdAt ?? ''),
  );
  for (const { ref, pending, forged } of sorted) {
    if (!pending) {
      plan.clear.push({ ref, why: 'the label has no readable pending-rollback annotation' });
      continue;
    }
    if (forged) {
      plan.ignored.push({ ref, jobId: pending.jobId, why: `${forged}: not adopted` });
      continue;
    }
    const known = view.jobs.get(pending.jobId);
    if (known) {
      if (TERMINAL_STATES.has(known.state))
        plan.clear.push({ ref, jobId: pending.jobId, why: `job already ${known.state} here` });
      continue; // active here: the queue runs or re-checks it
    }
    const denied = o.namespaceDenied?.(ref.namespace);
    if (denied) {
      plan.ignored.push({ ref, jobId: pending.jobId, why: `${denied}: not adopted` });
      continue;
    }
    const targetKey = workloadKey(ref);
    const active = view.activeJob(targetKey);
    if (active) {
      plan.ignored.push({
        ref,
        jobId: pending.jobId,
        why: `job ${active.id} for the same workload is already active here`,
      });
      continue;
    }
    const again = o.redecide?.(pending, ref);
    if (again && !again.ok) {
      plan.clear.push({ ref, jobId: pending.jobId, why: `${again.why}: not adopted` });
      continue;
    }
    const job = adopt(
      {
        id: pending.jobId,
        targetKey,
        executor: 'kubernetes',
        target: ref,
        rule: again?.rule ?? pending.rule,
        trigger: again?.trigger ?? pending.trigger,
        confidence: again?.confidence ?? pending.confidence,
        alert: {
          alertname: pending.alertname,
          fingerprint: pending.fingerprint,
          startsAt: pending.startsAt,
          labels: pending.labels,
          annotations: {},
          generatorURL: '',
          externalURL: '',
          receivedAt: Date.parse(pending.createdAt),
        },
        ...(pending.fromRevision !== undefined ? { fromRevision: pending.fromRevision } : {}),
        ...(pending.toRevision !== undefined ? { toRevision: pending.toRevision } : {}),
        // The same Slack message, and who acted on it there.
        ...(pending.slack ? { slack: pending.slack } : {}),
        ...(pending.slackActions ? { slackActions: pending.slackActions } : {}),
      },
      {
        createdAt: pending.createdAt,
        acceptedBy: pending.acceptedBy || 'another replica',
        by: o.identity,
        at: o.now,
        ...(pending.approval ? { approval: pending.approval } : {}),
      },
    );
    plan.adopt.push(job);
    plan.records.push(
      { t: 'job', job },
      {
        t: 'instance',
        at: o.now,
        key: instanceKey(pending.fingerprint, pending.startsAt),
        decision: job.state === 'awaiting_approval' ? 'awaiting_approval' : 'queued',
        jobId: job.id,
      },
    );
  }
  return plan;
}
