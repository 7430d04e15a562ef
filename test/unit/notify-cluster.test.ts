// The cluster name on Slack messages: every stage and decision, escaped, within Slack's limits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JOB_STAGES as STAGES } from '../../src/model/job-notifier.js';
import { SLACK_LIMITS } from '../../src/notify/block-kit.js';
import { buildDecisionMessage } from '../../src/notify/build-decision-message.js';
import { buildJobMessage } from '../../src/notify/build-job-message.js';
import { sampleJob } from './notify-fixtures.js';

describe('cluster name on Slack messages', () => {
  test('every job stage: "[us-1]" first in the text, a Cluster line under the header', () => {
    for (const stage of STAGES) {
      const msg = buildJobMessage(sampleJob(), stage, { cluster: 'us-1' });
      assert.match(msg.text, /^\[us-1\] /, stage);
      assert.equal(msg.blocks[0]?.type, 'header', stage);
      assert.deepEqual(msg.blocks[1], {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: 'Cluster: *us-1*' }],
      });
    }
  });

  test('without a cluster the messages are unchanged', () => {
    const plain = buildJobMessage(sampleJob(), 'started');
    assert.deepEqual(buildJobMessage(sampleJob(), 'started', {}), plain);
    assert.doesNotMatch(JSON.stringify(plain), /Cluster/);
  });

  test('decision messages too', () => {
    const msg = buildDecisionMessage(
      { alertname: 'A', decision: 'cooldown', reason: 'recently rolled back', labels: {} },
      { cluster: 'eu-1' },
    );
    assert.match(msg.text, /^\[eu-1\] /);
    assert.match(JSON.stringify(msg.blocks[1]), /Cluster: \*eu-1\*/);
  });

  test('a name with mrkdwn control characters is escaped', () => {
    const msg = buildJobMessage(sampleJob(), 'queued', { cluster: '<!channel>&x' });
    assert.match(msg.text, /^\[&lt;!channel&gt;&amp;x\] /);
    assert.doesNotMatch(JSON.stringify(msg), /<!channel>/);
  });

  test('the added line never pushes a message past 50 blocks', () => {
    const many = sampleJob({
      images: Array.from({ length: 60 }, (_, i) => ({
        container: `c${i}`,
        from: `r/c${i}:v2`,
        to: `r/c${i}:v1`,
      })),
    });
    for (const stage of STAGES) {
      const msg = buildJobMessage(many, stage, { cluster: 'us-1' });
      assert.ok(msg.blocks.length <= SLACK_LIMITS.blocks, `${stage}: ${msg.blocks.length}`);
    }
  });
});
