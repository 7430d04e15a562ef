// The kill switch (pause) and the circuit breaker, mirrored on the Lease by the leader. Each
// replica keeps them in its own journal, so without this a failover would silently drop an
// operator's pause: the new leader reads the annotation before it acts and takes the state over
// through its own journal (high-availability.ts). Times are ISO strings: operators read it with
// `kubectl get lease -o yaml`.
//
// Anyone who may write Leases in the namespace can write this annotation, so an unsigned value is
// only taken in the safe direction (pause, open the breaker); lifting a pause or closing the
// breaker needs the leader's signature made with the replica key (replica-key.ts).
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
  /** The leader's signature over the fields above (replica key). */
  signature?: string;
}

const PURPOSE = 'controller-state v1';
const SIGNED: Array<keyof ClusterControllerState> = [
  'paused',
  'pausedBy',
  'pauseReason',
  'pausedAt',
  'circuitOpen',
  'circuitReason',
  'circuitOpenedAt',
  'updatedAt',
];
const signedFields = (s: ClusterControllerState) => SIGNED.map((k) => JSON.stringify(s[k] ?? null));

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
  return !!key && s.signature !== undefined && key.verify(PURPOSE, signedFields(s), s.signature);
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
    },
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
