// The controller state on the Lease as an attacker with `update leases` sees it: whatever they
// write can pause or open the breaker (the safe direction), never lift an operator's pause.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adoptionRecords,
  controllerStateOf,
  controllerStateSigned,
  parseControllerState,
  signControllerState,
  stateToAdopt,
  type ClusterControllerState,
} from '../../src/ha/controller-state-annotation.js';
import { replicaKey } from '../../src/http/replica-key.js';
import { ControllerState } from '../../src/jobs/controller-state.js';

const KEY = replicaKey('webhook-secret', 'operator-secret')!;
const PAUSED_AT = Date.parse('2026-11-22T03:00:00.000Z');
const LATER = '2026-11-22T04:00:00.000Z';

/** A new leader whose own journal has the operator's pause, reading what is on the Lease. */
function takeOver(annotation: string): ControllerState {
  const mine = new ControllerState();
  mine.apply({ t: 'pause', at: PAUSED_AT, paused: true, by: 'oncall', reason: 'incident' });
  mine.apply({ t: 'circuit', at: PAUSED_AT, open: true, reason: 'too many rollbacks' });
  const parsed = parseControllerState(annotation);
  assert.ok(parsed && 'state' in parsed);
  mine.applyAll(adoptionRecords(mine, parsed.state, controllerStateSigned(parsed.state, KEY)));
  return mine;
}

const resumed: ClusterControllerState = { paused: false, circuitOpen: false, updatedAt: LATER };

describe('controller state adopted from the Lease', () => {
  test('a later unsigned "resumed" written by someone else keeps the pause and the open breaker', () => {
    const s = takeOver(JSON.stringify(resumed));
    assert.equal(s.paused, true);
    assert.equal(s.circuitOpen, true);
  });

  test('a signature from another key, or over other values, does not count', () => {
    const otherKey = replicaKey('guessed', undefined)!;
    const forged = takeOver(JSON.stringify(signControllerState(resumed, otherKey)));
    assert.equal(forged.paused, true);
    const signedPaused = signControllerState({ ...resumed, paused: true }, KEY);
    const altered = takeOver(JSON.stringify({ ...signedPaused, paused: false }));
    assert.equal(altered.paused, true, 'a signed value edited afterwards');
  });

  test('the previous leader’s signed resume is adopted', () => {
    const s = takeOver(JSON.stringify(signControllerState(resumed, KEY)));
    assert.equal(s.paused, false);
    assert.equal(s.circuitOpen, false);
  });

  test('an unsigned pause is still taken: the safe direction needs no proof', () => {
    const mine = new ControllerState();
    const parsed = parseControllerState(
      JSON.stringify({ paused: true, pausedBy: 'someone', circuitOpen: false, updatedAt: LATER }),
    );
    assert.ok(parsed && 'state' in parsed);
    mine.applyAll(adoptionRecords(mine, parsed.state, controllerStateSigned(parsed.state, KEY)));
    assert.equal(mine.paused, true);
  });

  test('what a leader publishes verifies with the same secrets, on any replica', () => {
    const s = new ControllerState();
    s.apply({ t: 'pause', at: PAUSED_AT, paused: true, by: 'oncall' });
    const published = signControllerState(controllerStateOf(s), KEY);
    const parsed = parseControllerState(JSON.stringify(published));
    assert.ok(parsed && 'state' in parsed);
    const sameSecrets = replicaKey('webhook-secret', 'operator-secret');
    assert.equal(controllerStateSigned(parsed.state, sameSecrets), true);
    assert.equal(controllerStateSigned(parsed.state, undefined), false);
  });
});

describe('which signed state a new leader takes over', () => {
  const at = (n: number) => new Date(PAUSED_AT + n * 1000).toISOString();
  const v = (seq: number, paused: boolean) =>
    signControllerState({ paused, circuitOpen: false, updatedAt: at(seq), seq }, KEY);
  const paused = v(7, true);

  test('deleting the state or writing back an older signed copy keeps the newest remembered', () => {
    for (const raw of [undefined, '', JSON.stringify(v(6, false)), '{']) {
      const c = stateToAdopt({ raw, remembered: paused, hadHolders: true, key: KEY });
      assert.deepEqual(c.signed, paused, String(raw));
      assert.match(String(c.warning), /older than the newest this replica verified/);
      assert.equal(c.failSafe, undefined);
    }
  });

  test('a newer signed state on the Lease wins', () => {
    const resumedLater = v(8, false);
    const c = stateToAdopt({
      raw: JSON.stringify(resumedLater),
      remembered: paused,
      hadHolders: true,
      key: KEY,
    });
    assert.deepEqual(c.signed, resumedLater);
    assert.equal(c.warning, undefined);
  });

  test('nothing verifiable on a Lease that had leaders: start paused, saying why', () => {
    const forged = JSON.stringify({ ...v(9, false), signature: 'f'.repeat(64) });
    for (const raw of [undefined, forged]) {
      const c = stateToAdopt({ raw, remembered: undefined, hadHolders: true, key: KEY });
      assert.equal(c.signed, undefined);
      assert.match(String(c.failSafe), /^the Lease had a leader before .*starting paused/);
    }
    const first = stateToAdopt({
      raw: undefined,
      remembered: undefined,
      hadHolders: false,
      key: KEY,
    });
    assert.deepEqual(first, {}, 'a first start has nothing to distrust');
  });

  test('a state signed before the sequence existed still verifies, as sequence 0', () => {
    const old: ClusterControllerState = { paused: true, circuitOpen: false, updatedAt: at(0) };
    const mac = KEY.sign(
      'controller-state v1',
      [
        'paused',
        'pausedBy',
        'pauseReason',
        'pausedAt',
        'circuitOpen',
        'circuitReason',
        'circuitOpenedAt',
        'updatedAt',
      ].map((k) => JSON.stringify((old as unknown as Record<string, unknown>)[k] ?? null)),
    );
    assert.equal(controllerStateSigned({ ...old, signature: mac }, KEY), true);
    assert.equal(controllerStateSigned({ ...old, seq: 3, signature: mac }, KEY), false);
  });
});
