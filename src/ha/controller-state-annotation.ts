// The kill switch (pause) and the circuit breaker, mirrored on the Lease by the leader. Each
// replica keeps them in its own journal, so without this a failover would silently drop an
// operator's pause: the new leader reads the annotation before it acts and takes the state over
// through its own journal (high-availability.ts). Times are ISO strings: operators read it with
// `kubectl get lease -o yaml`.
//
// Anyone who may write Leases in the namespace can write this annotation, so an unsigned value is
// only taken in the safe direction (pause, open the breaker); lifting a pause or closing the
// breaker needs the leader's signature made with the replica key (replica-key.ts). A signed value
// carries a sequence number that grows with every change, across leaders, so an older signed copy
// written back (or the value deleted) cannot undo a newer one a follower has seen
// (stateToAdopt).
import type { ReplicaKey } from '../http/replica-key.js';
import type { CircuitState, PauseState } from '../jobs/controller-state.js';
import type { JournalRecord } from '../jobs/journal-record.js';

export const CONTROLLER_STATE_ANNOTATION = 'rollback-controller.io/controller-state';

export interface ClusterControllerState {
  paused: boolean;
  pausedBy?: string;
  pauseReason?: string;
  pausedAt?: string;
  circuitOpen: boolean;
  circuitReason?: string;
  circuitOpenedAt?: string;
  /** The last pause, resume or circuit change: on disagreement the later one wins. */
  updatedAt: string;
  /** Grows with every published change, across leaders (signed; absent: 0). */
  seq?: number;
  /** The leader's signature over the fields above (replica key). */
  signature?: string;
}

const PURPOSE = 'controller-state v2';
/** What versions before the sequence signed: still read on upgrade, as sequence 0. */
const PURPOSE_V1 = 'controller-state v1';
const SIGNED_V1: Array<keyof ClusterControllerState> = [
  'paused',
  'pausedBy',
  'pauseReason',
  'pausedAt',
  'circuitOpen',
  'circuitReason',
  'circuitOpenedAt',
  'updatedAt',
];
const SIGNED: Array<keyof ClusterControllerState> = [...SIGNED_V1, 'seq'];
const fieldsOf = (s: ClusterControllerState, keys: Array<keyof ClusterControllerState>) =>
  keys.map((k) => JSON.stringify(k === 'seq' ? (s.seq ?? 0) : (s[k] ?? null)));
const signedFields = (s: ClusterControllerState) => fieldsOf(s, SIGNED);

export function signControllerState(
  s: ClusterControllerState,
  key: ReplicaKey | undefined,
): ClusterControllerState {
  return key ? { ...s, signature: key.sign(PURPOSE, signedFields(s)) } : s;
}

export function controllerStateSigned(
  s: ClusterControllerState,
  key: ReplicaKey | undefined,
): boolean {
  if (!key || s.signature === undefined) return false;
  if (key.verify(PURPOSE, signedFields(s), s.signature)) return true;
  return s.seq === undefined && key.verify(PURPOSE_V1, fieldsOf(s, SIGNED_V1), s.signature);
}

export interface KillSwitchView {
  pause: PauseState;
  circuit: CircuitState;
}

/**
 * When the local state last changed. A resume leaves no time on the pause state but restarts the
 * breaker's window (resetAt), so that is when it happened.
 */
export function lastChangeAt(s: KillSwitchView): number {
  return Math.max(s.pause.since ?? 0, s.circuit.since ?? 0, s.circuit.resetAt);
}

export function controllerStateOf(s: KillSwitchView): ClusterControllerState {
  const iso = (ms: number) => new Date(ms).toISOString();
  const { pause, circuit } = s;
  return {
    paused: pause.paused,
    ...(pause.paused && pause.by ? { pausedBy: pause.by } : {}),
    ...(pause.paused && pause.reason ? { pauseReason: pause.reason } : {}),
    ...(pause.paused && pause.since !== undefined ? { pausedAt: iso(pause.since) } : {}),
    circuitOpen: circuit.open,
    ...(circuit.open && circuit.reason ? { circuitReason: circuit.reason } : {}),
    ...(circuit.open && circuit.since !== undefined ? { circuitOpenedAt: iso(circuit.since) } : {}),
    updatedAt: iso(lastChangeAt(s)),
  };
}

/** The annotation's value, or undefined (with why) when it is missing or not ours to trust. */
export function parseControllerState(
  raw: string | undefined,
): { state: ClusterControllerState } | { problem: string } | undefined {
  if (raw === undefined || raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { problem: 'not JSON' };
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o['paused'] !== 'boolean')
    return { problem: 'no boolean "paused"' };
  if (typeof o['circuitOpen'] !== 'boolean') return { problem: 'no boolean "circuitOpen"' };
  if (typeof o['updatedAt'] !== 'string' || !Number.isFinite(Date.parse(o['updatedAt'])))
    return { problem: 'no valid "updatedAt"' };
  const str = (k: string) => {
    const v = o[k];
    return typeof v === 'string' ? { [k]: v } : {};
  };
  return {
    state: {
      paused: o['paused'],
      circuitOpen: o['circuitOpen'],
      updatedAt: o['updatedAt'],
      ...str('pausedBy'),
      ...str('pauseReason'),
      ...str('pausedAt'),
      ...str('circuitReason'),
      ...str('circuitOpenedAt'),
      ...str('signature'),
      ...(Number.isSafeInteger(o['seq']) && (o['seq'] as number) >= 0
        ? { seq: o['seq'] as number }
        : {}),
    },
  };
}

/** What a new leader takes over (pure): see stateToAdopt. */
export interface StateToAdopt {
  /** The newest signed state (adopted in both directions), if any. */
  signed?: ClusterControllerState;
  /** An unsigned or unverifiable value on the Lease: adopted in the safe direction only. */
  unsigned?: ClusterControllerState;
  /** Why the new leader starts paused: the Lease had leaders but no signed state is known. */
  failSafe?: string;
  /** Something an operator should know (an older or missing state on the Lease). */
  warning?: string;
}

/**
 * The newest signed state wins: the one on the Lease now, or the newest this replica verified
 * while following (`remembered`), by sequence. Deleting the value or writing back an older signed
 * copy changes nothing; a Lease that had leaders but carries no state this replica can verify
 * (and none remembered) makes the new leader start paused.
 */
export function stateToAdopt(o: {
  raw: string | undefined;
  remembered: ClusterControllerState | undefined;
  hadHolders: boolean;
  key: ReplicaKey | undefined;
}): StateToAdopt {
  const parsed = parseControllerState(o.raw);
  const onLease = parsed && 'state' in parsed ? parsed.state : undefined;
  const leaseSigned = onLease && controllerStateSigned(onLease, o.key) ? onLease : undefined;
  const remembered = o.remembered;
  const seq = (s: ClusterControllerState) => s.seq ?? 0;
  if (leaseSigned && (!remembered || seq(leaseSigned) >= seq(remembered)))
    return { signed: leaseSigned };
  const unsigned = onLease && !leaseSigned ? { unsigned: onLease } : {};
  if (remembered) {
    const what = !parsed
      ? 'missing'
      : 'problem' in parsed
        ? `unreadable (${parsed.problem})`
        : leaseSigned
          ? `an older signed copy (sequence ${seq(leaseSigned)})`
          : 'not signed with the replicas’ key';
    return {
      signed: remembered,
      ...unsigned,
      warning: `the controller state on the Lease is ${what}, older than the newest this replica verified while following (sequence ${seq(remembered)}): someone else wrote the Lease? Keeping the newest`,
    };
  }
  if (!o.hadHolders) return unsigned;
  const what = !parsed
    ? 'no controller state'
    : 'problem' in parsed
      ? `an unreadable controller state (${parsed.problem})`
      : 'a controller state not signed with the replicas’ key';
  return {
    ...unsigned,
    failSafe: `the Lease had a leader before but carries ${what}, so the last pause and circuit-breaker state is unknown: starting paused (check who wrote the Lease, then POST /resume)`,
  };
}

/**
 * The journal records that bring the local state in line with the cluster's. The later change
 * wins (the last operator action); on a tie only the safe side is taken (paused, open). Without
 * `signed`, only the safe side is ever taken.
 */
export function adoptionRecords(
  local: KillSwitchView,
  cluster: ClusterControllerState,
  signed: boolean,
): JournalRecord[] {
  const clusterAt = Date.parse(cluster.updatedAt);
  const localAt = lastChangeAt(local);
  const newer = clusterAt > localAt;
  const atLeastAsNew = clusterAt >= localAt;
  const at = (iso: string | undefined) => {
    const ms = iso === undefined ? NaN : Date.parse(iso);
    return Number.isFinite(ms) ? ms : clusterAt;
  };
  const out: JournalRecord[] = [];
  if (cluster.paused && !local.pause.paused && atLeastAsNew) {
    out.push({
      t: 'pause',
      at: at(cluster.pausedAt),
      paused: true,
      ...(cluster.pausedBy ? { by: cluster.pausedBy } : {}),
      ...(cluster.pauseReason ? { reason: cluster.pauseReason } : {}),
    });
  }
  const resumed = signed && !cluster.paused && local.pause.paused && newer;
  if (resumed) out.push({ t: 'pause', at: clusterAt, paused: false });
  if (cluster.circuitOpen && !local.circuit.open && atLeastAsNew) {
    out.push({
      t: 'circuit',
      at: at(cluster.circuitOpenedAt),
      open: true,
      ...(cluster.circuitReason ? { reason: cluster.circuitReason } : {}),
    });
  } else if (signed && !cluster.circuitOpen && newer && (local.circuit.open || resumed)) {
    // A resume closed the breaker and restarted its window, as setPaused(false) does.
    out.push({ t: 'circuit', at: clusterAt, open: false });
  }
  return out;
}
