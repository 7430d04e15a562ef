// An Argo Rollouts Rollout ends in one of two ways and Slack says which, in webhook mode (the
// posted outcome) and in app mode (the one message, edited to its final state): an abort
// ("Rollout aborted: traffic back on stable …", the template still names the bad revision) and
// an undo ("Rolled back …"). Other kinds keep "Rollback succeeded".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAppMessage } from '../../src/notify/build-app-message.js';
import { buildJobMessage } from '../../src/notify/build-job-message.js';
import type { Job } from '../../src/model/job.js';
import { allText, iso, sampleJob } from './notify-fixtures.js';

function finishedRollout(argo: NonNullable<Job['rollout']>['argo']): Job {
  return sampleJob({
    target: { kind: 'Rollout', namespace: 'shop', name: 'cart' },
    targetKey: 'Rollout/shop/cart',
    state: 'succeeded',
    outcome: 'succeeded',
    fromRevision: 2,
    toRevision: 1,
    finishedAt: iso(1_000 + 12_000),
    patched: true,
    rollout: { generation: 3, ...(argo ? { argo } : {}) },
  });
}
const ABORT = finishedRollout({ action: 'abort', targetHash: 'h1', badHash: 'h2' });
const UNDO = finishedRollout({
  action: 'undo',
  targetHash: 'h1',
  badHash: 'h2',
  fastTrack: 'promoteFull',
});
/** Both renderers: the webhook post of the outcome and the app message in its final state. */
const RENDERERS = [
  ['webhook', (job: Job) => buildJobMessage(job, 'finished')],
  ['app', (job: Job) => buildAppMessage(job)],
] as const;

describe('Slack: a Rollout abort and a Rollout undo read differently', () => {
  for (const [mode, render] of RENDERERS) {
    test(`${mode} mode: abort → "Rollout aborted: traffic back on stable …"`, () => {
      const msg = render(ABORT);
      assert.equal(
        msg.text,
        'Rollout aborted: traffic back on stable revision 1: CriticalErrorRate → Rollout shop/cart in 12s',
      );
      const text = allText(msg);
      assert.ok(text.includes(':leftwards_arrow_with_hook: Rollout aborted'), text);
      assert.ok(
        text.includes(
          'The update of Rollout shop/cart to revision 2 was aborted: traffic and replicas are back on the stable revision 1 after 12s. Its template still names revision 2 (the Rollout stays Degraded): revert or fix it at its source.',
        ),
        text,
      );
      assert.ok(!text.includes('Rolled back'), text);
      assert.ok(!text.includes('Rollback succeeded'), text);
    });

    test(`${mode} mode: undo → "Rolled back …", with how it was fast-tracked`, () => {
      const msg = render(UNDO);
      assert.equal(
        msg.text,
        'Rolled back to revision 1: CriticalErrorRate → Rollout shop/cart in 12s',
      );
      const text = allText(msg);
      assert.ok(text.includes(':white_check_mark: Rolled back'), text);
      assert.ok(
        text.includes(
          'Rollout shop/cart is back on revision 1 after 12s: its template was undone and promoted fully, so no step or analysis ran again.',
        ),
        text,
      );
      assert.ok(!text.includes('aborted'), text);
      const windowed = render(
        finishedRollout({
          action: 'undo',
          targetHash: 'h1',
          badHash: 'h2',
          fastTrack: 'rollbackWindow',
        }),
      );
      assert.ok(
        allText(windowed).includes('spec.rollbackWindow let it skip the steps and analysis'),
      );
    });
  }

  test('a Deployment (and a Rollout job journaled without the action) keeps "Rollback succeeded"', () => {
    const deployment = sampleJob({ state: 'succeeded', outcome: 'succeeded' });
    assert.match(buildJobMessage(deployment, 'finished').text, /^Rollback succeeded: /);
    assert.match(buildAppMessage(finishedRollout(undefined)).text, /^Rollback succeeded: /);
  });
});
