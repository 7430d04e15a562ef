// Journals written before jobs had an `origin` field told an adopted job only by its timeline;
// replaying them must still send an adopted job through recover (never a second patch).
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
