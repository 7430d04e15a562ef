// What rolling back a Rollout means depends on where its update stands (contract.md "Argo Rollouts"):
// - in flight (status.stableRS differs from status.currentPodHash): abort, which hands traffic
//   and scale back to the stable ReplicaSet; the template is left alone, as `kubectl argo
//   rollouts abort` does;
// - promoted (the bad revision is stable): a pinned undo to the previous revision's template, as
//   `kubectl argo rollouts undo` does, then a fast-track so the bad version is not served
//   through the canary steps and analysis again: Argo skips them by itself when
//   spec.rollbackWindow covers the target, otherwise the job asks for a full promotion.
// The pinning rules (moved on, never a rollback of a rollback, only a recent change, the pinned
// target) are the ones every kind follows: resolveRollback decides them.
import type { Workload } from '../../../kube/kube-types.js';
import { LAST_ROLLBACK_ANNOTATION } from '../../../kube/last-rollback.js';
import { resolveRollback, type ResolveInput, type Resolution } from '../resolve-rollback.js';
import {
  EXPERIMENT_NAME_ANNOTATION,
  WORKLOAD_GENERATION_ANNOTATION,
  condition,
  generationObserved,
  inFlight,
  strategyOf,
  workloadGenerationObserved,
  type ArgoRollout,
} from './argo-rollout.js';
import type { RolloutHistory, RolloutRevision } from './find-rollout-revisions.js';

export type FastTrack = 'rollbackWindow' | 'promoteFull';

export type RolloutAction =
  | { type: 'abort'; strategy: 'canary' | 'blueGreen'; stableHash: string; badHash: string }
  | {
      type: 'undo';
      strategy: 'canary' | 'blueGreen';
      badHash: string;
      targetHash: string;
      fastTrack: FastTrack;
      /** Where the template lives: the Rollout, or the Deployment its workloadRef names. */
      templateIn: { kind: 'Rollout' | 'Deployment'; name: string };
    };

export interface RolloutSnapshot {
  rollout: ArgoRollout;
  history: RolloutHistory;
  /** The Deployment a workloadRef Rollout takes its template from. */
  reference?: Workload;
}

export type RolloutResolution =
  | Extract<Resolution, { action: 'skip' }>
  | (Extract<Resolution, { action: 'rollback' }> & { rollout: RolloutAction });

export function resolveRollout(
  snap: RolloutSnapshot,
  input: Pick<ResolveInput, 'job' | 'optOutAnnotation' | 'maxRevisionAgeSeconds'>,
): RolloutResolution {
  const { rollout, history } = snap;
  const status = rollout.status ?? {};
  const ref = `Rollout ${rollout.metadata.namespace ?? ''}/${rollout.metadata.name ?? ''}`;
  const skip = (reason: string): RolloutResolution => ({
    action: 'skip',
    reason,
    ...(history.current ? { fromRevision: history.current.revision } : {}),
  });

  const workloadRef = rollout.spec.workloadRef;
  if (workloadRef && workloadRef.kind !== 'Deployment') {
    return skip(
      `${ref} takes its template from a ${workloadRef.kind ?? 'workload of no kind'}: only a workloadRef to a Deployment is rolled back`,
    );
  }
  if (workloadRef && !snap.reference) {
    return skip(`${ref} refers to Deployment ${workloadRef.name ?? '?'}, which was not found`);
  }
  if (!generationObserved(rollout)) {
    return skip(
      `${ref} is in flux: the Argo Rollouts controller has not observed generation ${rollout.metadata.generation ?? '?'} yet (status.observedGeneration ${status.observedGeneration ?? 'unset'}); a newer change is not processed`,
    );
  }
  if (
    snap.reference &&
    (!workloadGenerationObserved(rollout) ||
      rollout.metadata.annotations?.[WORKLOAD_GENERATION_ANNOTATION] !==
        String(snap.reference.metadata.generation ?? ''))
  ) {
    return skip(
      `${ref} is in flux: the controller has not taken the template of Deployment ${workloadRef?.name ?? '?'} at its generation ${snap.reference.metadata.generation ?? '?'} yet`,
    );
  }
  const invalid = condition(rollout, 'InvalidSpec');
  if (invalid?.status === 'True') {
    return skip(
      `${ref} has an invalid spec (${invalid.message ?? 'InvalidSpec'}): Argo Rollouts acts on no change until it is fixed`,
    );
  }
  if (rollout.spec.paused === true) {
    return skip(
      `${ref} is paused by hand (spec.paused): a paused Rollout is not rolled back (promote or abort it with kubectl argo rollouts first)`,
    );
  }
  if (!history.current || !status.currentPodHash) {
    return skip(
      `${ref} is in flux: no ReplicaSet of it carries the current template hash ${status.currentPodHash ?? '(unset)'}`,
    );
  }
  if (!status.stableRS || !history.stable) {
    return skip(
      `${ref} has no stable ReplicaSet${status.stableRS ? ` (status.stableRS ${status.stableRS} is gone)` : ''}: nothing to go back to`,
    );
  }
  if (status.abort === true) {
    const aborted = condition(rollout, 'Progressing');
    const by = abortCause(aborted?.message);
    return skip(
      `${ref}: revision ${history.current.revision} was already aborted ${by}; traffic and scale are on the stable ReplicaSet (revision ${history.stable.revision}) and the template still names revision ${history.current.revision}: undo it or fix its source`,
    );
  }

  const updating = inFlight(rollout);
  const stable = history.stable;
  const current = history.current;
  const base = resolveRollback({
    ...input,
    kind: 'Rollout',
    workload: effectiveWorkload(snap),
    // In flight, the way back is the stable revision, whatever was tried (and aborted) since:
    // the revisions between it and the current one are left out of what the rules read.
    history: {
      currentRevision: history.currentRevision,
      current,
      entries: updating
        ? history.entries.filter((e) => e === current || e.revision <= stable.revision)
        : history.entries,
      ...(updating ? { previous: stable } : history.previous ? { previous: history.previous } : {}),
    },
  });
  if (base.action !== 'rollback') return base;
  const strategy = strategyOf(rollout);
  const bad = current;
  const to = base.to as RolloutRevision;
  if (updating && to.name !== stable.name) {
    return skip(
      `${ref}: the update in flight (revision ${bad.revision}) only restarts revision ${to.revision}, not a deploy to blame; nothing to abort`,
    );
  }
  if (updating) {
    return {
      ...base,
      reason: `abort the update of ${ref} to revision ${bad.revision}: traffic and scale go back to the stable revision ${to.revision} (the template keeps naming revision ${bad.revision}; the Rollout stays Degraded until it changes)`,
      rollout: { type: 'abort', strategy, stableHash: to.hash, badHash: bad.hash },
    };
  }
  const fastTrack: FastTrack = rollbackWindowCovers(snap.rollout, history, to)
    ? 'rollbackWindow'
    : 'promoteFull';
  const templateIn = snap.reference
    ? { kind: 'Deployment' as const, name: snap.reference.metadata.name ?? '' }
    : { kind: 'Rollout' as const, name: rollout.metadata.name ?? '' };
  return {
    ...base,
    reason: `undo ${ref} from revision ${bad.revision} (promoted) to ${to.revision}${templateIn.kind === 'Deployment' ? ` through the template of Deployment ${templateIn.name} (workloadRef)` : ''}, then ${
      fastTrack === 'rollbackWindow'
        ? `let spec.rollbackWindow (${rollout.spec.rollbackWindow?.revisions ?? 0} revisions) skip the ${strategy === 'canary' ? 'canary steps' : 'blue-green pre-promotion'} and analysis`
        : `promote it fully once the controller has observed the new template, so no ${strategy === 'canary' ? 'canary step' : 'blue-green pause'} or analysis runs again`
    }`,
    rollout: {
      type: 'undo',
      strategy,
      badHash: bad.hash,
      targetHash: to.hash,
      fastTrack,
      templateIn,
    },
  };
}

/**
 * The workload the shared rules read: the Rollout's metadata (opt-out, annotations), and for a
 * workloadRef Rollout the template, its writers (managedFields) and our record from the
 * Deployment, which is what a rollback patches.
 */
function effectiveWorkload({ rollout, reference }: RolloutSnapshot): Workload {
  const own = rollout as unknown as Workload;
  if (!reference) return own;
  const record = reference.metadata.annotations?.[LAST_ROLLBACK_ANNOTATION];
  const annotations = { ...rollout.metadata.annotations };
  delete annotations[LAST_ROLLBACK_ANNOTATION];
  return {
    ...own,
    metadata: {
      ...rollout.metadata,
      annotations: record ? { ...annotations, [LAST_ROLLBACK_ANNOTATION]: record } : annotations,
      ...(reference.metadata.managedFields
        ? { managedFields: reference.metadata.managedFields }
        : {}),
    },
    spec: { ...own.spec, template: reference.spec.template },
  };
}

/**
 * Argo's own test (rollout/sync.go isRollbackWithinWindow): the target was created before the
 * stable ReplicaSet (whole seconds, strictly), and fewer than spec.rollbackWindow.revisions
 * ReplicaSets (Experiments' excluded) were created between them.
 */
export function rollbackWindowCovers(
  rollout: ArgoRollout,
  history: RolloutHistory,
  target: RolloutRevision,
): boolean {
  const revisions = rollout.spec.rollbackWindow?.revisions ?? 0;
  const stableAt = wholeSeconds(history.stable?.createdAt);
  const targetAt = wholeSeconds(target.createdAt);
  if (revisions <= 0 || stableAt === undefined || targetAt === undefined) return false;
  if (!(targetAt < stableAt)) return false;
  const between = history.entries.filter((e) => {
    if (e.annotations?.[EXPERIMENT_NAME_ANNOTATION]) return false;
    const at = wholeSeconds(e.createdAt);
    return at !== undefined && targetAt < at && at < stableAt;
  }).length;
  return between < revisions;
}

/** An API time in whole seconds (the precision the server records). */
export function wholeSeconds(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** Who aborted, from Argo's RolloutAborted condition ("Rollout aborted update to revision N[: why]"). */
function abortCause(message: string | undefined): string {
  const why = message?.match(/^Rollout aborted update to revision \d+: (.+)$/s)?.[1];
  return why
    ? `by the Rollout itself (${why.length > 200 ? `${why.slice(0, 200)}…` : why})`
    : '(status.abort is set: by a human or another tool)';
}
