// Journals written by earlier versions replay into the jobs of this one: before jobs had an
// `origin` field an adopted job was told only by its timeline (replaying must still send it through
// recover, never a second patch), and the script result was the snake_case `script_result`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControllerState } from '../../src/jobs/controller-state.js';
import type { Job } from '../../src/model/job.js';
import { sampleJob } from './notify-fixtures.js';

/** The job as an older version journaled it. */
function legacy(job: Job): Job {
  const old: Partial<Job> = { ...job };
  delete old.origin;
  return old as Job;
}

test('a replayed job without origin is adopted when its timeline says so, else from an alert', () => {
  const state = new ControllerState();
  const adopted = sampleJob({
    id: 'adopted-1',
    timeline: [
      { at: '2025-03-04T10:00:00.000Z', event: 'queued', message: 'accepted by a' },
      { at: '2025-03-04T10:00:05.000Z', event: 'adopted', message: 'adopted by b' },
    ],
  });
  state.apply({ t: 'job', job: legacy(adopted) });
  state.apply({ t: 'job', job: legacy(sampleJob({ id: 'alert-1' })) });
  assert.equal(state.jobs.get('adopted-1')?.origin, 'adopted');
  assert.equal(state.jobs.get('alert-1')?.origin, 'alert');
});

test('a replayed job with the old snake_case script_result keeps it as scriptResult', () => {
  const state = new ControllerState();
  const scriptResult = {
    exitCode: 3,
    signal: null,
    durationMs: 120,
    timedOut: false,
    outputTail: 'deployment not found\n',
  };
  const old = { ...sampleJob({ id: 'script-1' }), script_result: scriptResult };
  state.apply({ t: 'job', job: old as unknown as Job });
  const job = state.jobs.get('script-1') as Job & { script_result?: unknown };
  assert.deepEqual(job.scriptResult, scriptResult);
  assert.equal(job.script_result, undefined);
});
