import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { JobStage } from '../../src/model/job-notifier.js';
import { SLACK_LIMITS } from '../../src/notify/block-kit.js';
import { buildDecisionMessage } from '../../src/notify/build-decision-message.js';
import { buildJobMessage } from '../../src/notify/build-job-message.js';
import { escapeMrkdwn } from '../../src/notify/escape-mrkdwn.js';
import { safeLink } from '../../src/notify/job-facts.js';
import { truncateMrkdwn } from '../../src/notify/truncate-mrkdwn.js';
import { mrkdwnStrings, sampleJob } from './notify-fixtures.js';

/** Our own control sequences: links from parsed URLs, dates, @here, quote marks. */
function withoutOurControls(text: string): string {
  return text
    .replace(/<https?:\/\/[^<>| ]+\|(Alert source|Alertmanager|Runbook \([^<>|() ]+\))>/g, '')
    .replace(/<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9TZ:.-]+>/g, '')
    .replace(/<!here>/g, '')
    .replace(/^>/gm, ''); // our block quote of the summary annotation
}

describe('escaping alert text', () => {
  test('escapeMrkdwn turns Slack control characters into entities', () => {
    assert.equal(
      escapeMrkdwn('<!channel> & <https://evil|click>'),
      '&lt;!channel&gt; &amp; &lt;https://evil|click&gt;',
    );
  });

  test('a label or alert name cannot inject a broadcast or a link', () => {
    const job = sampleJob();
    job.alert = {
      ...job.alert,
      alertname: 'Boom<!channel>',
      labels: {
        ...job.alert.labels,
        team: '<!channel>',
        note: '<https://evil.example|click here>',
      },
      annotations: { summary: 'see <https://evil.example|this> & <@U123>' },
    };
    for (const stage of ['queued', 'started', 'failed', 'not_recovered'] as const) {
      const msg = buildJobMessage(job, stage);
      for (const text of mrkdwnStrings(msg)) {
        const rest = withoutOurControls(text);
        assert.ok(
          !rest.includes('<') && !rest.includes('>'),
          `${stage}: raw control char in ${text}`,
        );
      }
      const all = JSON.stringify(msg);
      assert.ok(all.includes('&lt;!channel&gt;'));
      assert.ok(all.includes('&lt;https://evil.example|click here&gt;'));
    }
  });

  test('only http(s) URLs become links, and a URL cannot close the link early', () => {
    assert.equal(safeLink('javascript:alert(1)', 'x'), undefined);
    assert.equal(safeLink('not a url', 'x'), undefined);
    assert.equal(safeLink('', 'x'), undefined);
    const link = safeLink('https://grafana.example/d?a=1&b=<x>|<!channel>', 'Graph')!;
    assert.equal(link, '<https://grafana.example/d?a=1&amp;b=%3Cx%3E%7C%3C!channel%3E|Graph>');
  });

  test("a rule writer's runbook_url is a link only when http(s), and says where it goes", () => {
    const links = (runbook_url: string) => {
      const job = sampleJob();
      job.alert = { ...job.alert, annotations: { runbook_url } };
      return JSON.stringify(buildJobMessage(job, 'started'));
    };
    for (const hostile of [
      'javascript:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'slack://open?team=T1',
      'file:///etc/passwd',
    ]) {
      const msg = links(hostile);
      assert.doesNotMatch(msg, /Runbook/, hostile);
      assert.ok(!msg.includes(hostile.slice(0, 12)), `${hostile} is not rendered`);
    }
    assert.match(links('https://login.evil.example/okta'), /\|Runbook \(login\.evil\.example\)>/);
  });

  test('decision notices escape alert name, reason and labels', () => {
    const msg = buildDecisionMessage({
      alertname: 'A<!everyone>',
      decision: 'notify_only',
      reason: 'rule <x> has autoRollback: false',
      labels: { service: '<https://evil|click>' },
      generatorURL: 'javascript:alert(1)',
    });
    for (const text of mrkdwnStrings(msg)) assert.ok(!/[<>]/.test(withoutOurControls(text)), text);
  });
});

describe('Slack size limits', () => {
  test('truncateMrkdwn never splits an entity, one of our links, or leaves a code block open', () => {
    assert.equal(truncateMrkdwn('short', 10), 'short');
    const entity = truncateMrkdwn(`${'a'.repeat(10)}&amp;${'b'.repeat(20)}`, 17);
    assert.ok(entity.length <= 17);
    assert.ok(!/&[a-z]*…$/.test(entity), entity);
    const link = truncateMrkdwn(
      `${'a'.repeat(10)} <https://example.com/abc|Alert source> tail`,
      30,
    );
    assert.ok(!link.includes('<'), link);
    const fence = truncateMrkdwn(`\`\`\`${'x'.repeat(100)}\`\`\``, 40);
    assert.ok(fence.length <= 40);
    assert.equal(fence.split('```').length - 1, 2, fence);
    const emoji = truncateMrkdwn('😀'.repeat(20), 10);
    assert.ok(!/[\uD800-\uDBFF]…$/.test(emoji), 'no lone high surrogate');
  });

  test('any alert content yields blocks within Slack limits and a bounded fallback text', () => {
    const huge = fc.string({
      unit: fc.constantFrom('a', '&', '<', '>', '`', '|', '😀', ' ', '\n'),
      maxLength: 9000,
    });
    fc.assert(
      fc.property(
        huge,
        fc.dictionary(fc.string({ maxLength: 30 }), huge, { maxKeys: 40 }),
        fc.array(fc.record({ container: huge, from: huge, to: huge }), { maxLength: 60 }),
        fc.constantFrom<JobStage>(
          'queued',
          'awaiting_approval',
          'started',
          'failed',
          'not_recovered',
        ),
        (text, labels, images, stage) => {
          const job = sampleJob({ images, reason: text });
          job.alert = { ...job.alert, alertname: text, labels, annotations: { summary: text } };
          const msg = buildJobMessage(job, stage);
          assert.ok(msg.blocks.length <= SLACK_LIMITS.blocks);
          assert.ok(msg.text.length <= SLACK_LIMITS.fallbackText);
          for (const b of msg.blocks) {
            if (b.type === 'header') assert.ok(b.text.text.length <= SLACK_LIMITS.headerText);
            if ('text' in b && b.type === 'section') {
              assert.ok(b.text.text.length <= SLACK_LIMITS.sectionText);
            }
            if ('fields' in b) {
              assert.ok(b.fields.length <= SLACK_LIMITS.fields);
              for (const f of b.fields) {
                assert.ok(f.text.length <= SLACK_LIMITS.fieldText && f.text.length > 0);
              }
            }
            if ('elements' in b) assert.ok(b.elements.length <= SLACK_LIMITS.contextElements);
          }
          for (const t of mrkdwnStrings(msg)) assert.ok(!/[<>]/.test(withoutOurControls(t)), t);
        },
      ),
      { numRuns: 60 },
    );
  });
});
