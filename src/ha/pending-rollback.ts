// The job intent a leader leaves on a workload while a rollback job for it is queued or running:
// a label (so a new leader finds every such workload with one label-selector list) and an
// annotation with what it needs to re-create the job under the same id. Cleared when the job
// finishes. The annotation is kept through the Deployment rollback patch, which otherwise
// replaces the whole annotation map (see DEPLOYMENT_OWN_ANNOTATIONS).
//
// Whoever may patch a workload can write such a mark, and a new leader acts on it with the
// controller's rights. So the leader signs the mark with the replica key over its fields and the
// workload it was written on (kind, namespace, name and UID): a mark without that signature, or
// copied onto another workload (or a re-created one), is not adopted (markProblem).
//
// A job held for approval is marked too (with its deadline), and so is the app-mode Slack message
// of a job (channel and ts) once posted, with who decided in Slack: a new leader then holds the
// job under the same id, a click on its message finds it, and its edits go to the same message.
import type { ReplicaKey } from '../http/replica-key.js';
import { PENDING_ROLLBACK_ANNOTATION } from '../kube/last-rollback.js';
import type { Job, SlackAction, SlackMessageRef } from '../model/job.js';
import type { WorkloadRef } from '../model/workload-ref.js';

export { PENDING_ROLLBACK_ANNOTATION };
export const PENDING_ROLLBACK_LABEL = PENDING_ROLLBACK_ANNOTATION;
export const PENDING_ROLLBACK_SELECTOR = `${PENDING_ROLLBACK_LABEL}=true`;

export interface PendingRollback {
  jobId: string;
  alertname: string;
  fingerprint: string;
  startsAt: string;
  labels: Record<string, string>;
  rule: string;
  trigger: string;
  confidence: Job['confidence'];
  /** The pinned (bad) revision, when it was known: the new leader keeps the pin. */
  fromRevision?: number;
  /** The pinned target revision: a new leader never goes further back than it either. */
  toRevision?: number;
  createdAt: string;
  /** Identity of the replica that accepted the alert. */
  acceptedBy: string;
  /** Held for approval (no approvedAt yet), or approved by whom. */
  approval?: { expiresAt: string; approvedAt?: string; approvedBy?: string };
  /** The job's app-mode Slack message. */
  slack?: SlackMessageRef;
  /** The latest actions from Slack on the job (who approved, paused…). */
  slackActions?: SlackAction[];
}

/** Slack actions a mark keeps (annotations are small; the latest say who decided). */
const MARKED_SLACK_ACTIONS = 4;

export function pendingFor(
  job: Job,
  acceptedBy: string,
  pinned: { fromRevision?: number; toRevision?: number } = {},
): PendingRollback {
  const from = pinned.fromRevision ?? job.fromRevision;
  const to = pinned.fromRevision !== undefined ? pinned.toRevision : job.toRevision;
  return {
    jobId: job.id,
    alertname: job.alert.alertname,
    fingerprint: job.alert.fingerprint,
    startsAt: job.alert.startsAt,
    labels: job.alert.labels,
    rule: job.rule,
    trigger: job.trigger,
    confidence: job.confidence,
    ...(from !== undefined ? { fromRevision: from } : {}),
    ...(from !== undefined && to !== undefined ? { toRevision: to } : {}),
    createdAt: job.createdAt,
    acceptedBy,
    // Normalized as a reader rebuilds it, so both sign the same bytes.
    ...extras({ approval: job.approval, slack: job.slack, slackActions: job.slackActions }),
  };
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;
const SLACK_ACTIONS: ReadonlySet<string> = new Set(['approve', 'deny', 'pause', 'resume']);

/** The optional parts of a mark, rebuilt field by field (anything malformed is left out). */
function extras(v: Record<string, unknown>): Partial<PendingRollback> {
  const out: Partial<PendingRollback> = {};
  const a = v['approval'] as Record<string, unknown> | undefined;
  if (
    a &&
    typeof a === 'object' &&
    str(a['expiresAt']) &&
    Number.isFinite(Date.parse(a['expiresAt']))
  )
    out.approval = {
      expiresAt: a['expiresAt'],
      ...(str(a['approvedAt']) ? { approvedAt: a['approvedAt'] } : {}),
      ...(str(a['approvedBy']) ? { approvedBy: a['approvedBy'] } : {}),
    };
  const m = v['slack'] as Record<string, unknown> | undefined;
  if (m && typeof m === 'object' && str(m['channel']) && str(m['ts']))
    out.slack = { channel: m['channel'], ts: m['ts'] };
  const actions = v['slackActions'];
  if (Array.isArray(actions)) {
    const kept: SlackAction[] = [];
    for (const x of actions.slice(-MARKED_SLACK_ACTIONS) as Array<Record<string, unknown>>) {
      const user = x?.['user'] as Record<string, unknown> | undefined;
      if (!SLACK_ACTIONS.has(String(x?.['action'])) || !str(x?.['at']) || !user) continue;
      if (!str(user['id']) || typeof user['name'] !== 'string') continue;
      kept.push({
        action: x['action'] as SlackAction['action'],
        user: { id: user['id'], name: user['name'].slice(0, 200) },
        at: x['at'],
      });
    }
    if (kept.length) out.slackActions = kept;
  }
  return out;
}

const CONFIDENCES: ReadonlySet<string> = new Set(['high', 'medium', 'low']);

/** The intent on a workload, or undefined when absent or unreadable. */
export function parsePending(
  annotations: Record<string, string> | undefined,
): PendingRollback | undefined {
  const raw = annotations?.[PENDING_ROLLBACK_ANNOTATION];
  if (!raw) return undefined;
  let v: Partial<PendingRollback>;
  try {
    v = JSON.parse(raw) as Partial<PendingRollback>;
  } catch {
    return undefined;
  }
  if (
    typeof v.jobId !== 'string' ||
    !v.jobId ||
    typeof v.fingerprint !== 'string' ||
    typeof v.startsAt !== 'string' ||
    typeof v.rule !== 'string' ||
    typeof v.trigger !== 'string' ||
    !CONFIDENCES.has(String(v.confidence)) ||
    typeof v.createdAt !== 'string' ||
    !Number.isFinite(Date.parse(v.createdAt))
  ) {
    return undefined;
  }
  const labels: Record<string, string> = {};
  if (v.labels && typeof v.labels === 'object') {
    for (const [k, val] of Object.entries(v.labels)) if (typeof val === 'string') labels[k] = val;
  }
  return {
    jobId: v.jobId,
    alertname: String(v.alertname ?? ''),
    fingerprint: v.fingerprint,
    startsAt: v.startsAt,
    labels,
    rule: v.rule,
    trigger: v.trigger,
    confidence: v.confidence as Job['confidence'],
    ...(typeof v.fromRevision === 'number' ? { fromRevision: v.fromRevision } : {}),
    ...(typeof v.fromRevision === 'number' && typeof v.toRevision === 'number'
      ? { toRevision: v.toRevision }
      : {}),
    createdAt: v.createdAt,
    acceptedBy: String(v.acceptedBy ?? ''),
    ...extras(v),
  };
}

const PURPOSE = 'pending-rollback v1';

const signedFields = (p: PendingRollback, ref: WorkloadRef, uid: string): string[] => [
  p.jobId,
  p.alertname,
  p.fingerprint,
  p.startsAt,
  JSON.stringify(Object.entries(p.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  p.rule,
  p.trigger,
  p.confidence,
  String(p.fromRevision ?? ''),
  String(p.toRevision ?? ''),
  p.createdAt,
  p.acceptedBy,
  ref.kind,
  ref.namespace,
  ref.name,
  uid,
  // Only when present, so a mark written before these existed still verifies.
  ...(p.approval || p.slack || p.slackActions
    ? [JSON.stringify([p.approval ?? null, p.slack ?? null, p.slackActions ?? null])]
    : []),
];

/** The annotation's value: the mark and its signature for this very workload. */
export function signedPending(
  pending: PendingRollback,
  workload: { ref: WorkloadRef; uid: string },
  key: ReplicaKey,
): string {
  const signature = key.sign(PURPOSE, signedFields(pending, workload.ref, workload.uid));
  return JSON.stringify({ ...pending, signature });
}

/** Why a readable mark must not be adopted (undefined: a replica signed it for this workload). */
export function markProblem(
  annotations: Record<string, string> | undefined,
  workload: { ref: WorkloadRef; uid: string | undefined },
  key: ReplicaKey | undefined,
): string | undefined {
  const pending = parsePending(annotations);
  if (!pending) return 'the pending-rollback annotation is unreadable';
  let signature: unknown;
  try {
    signature = (
      JSON.parse(annotations?.[PENDING_ROLLBACK_ANNOTATION] ?? '{}') as { signature?: unknown }
    ).signature;
  } catch {
    signature = undefined;
  }
  if (typeof signature !== 'string')
    return 'the mark is not signed with the replicas’ key (written by someone else?)';
  if (
    !key ||
    !workload.uid ||
    !key.verify(PURPOSE, signedFields(pending, workload.ref, workload.uid), signature)
  )
    return 'the mark’s signature does not match it and this workload (edited, or copied from another workload?)';
  return undefined;
}
