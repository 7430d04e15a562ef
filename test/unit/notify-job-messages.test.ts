import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JOB_STAGES as STAGES } from '../../src/model/job-notifier.js';
import { SLACK_LIMITS } from '../../src/notify/block-kit.js';
import { buildJobMessage } from '../../src/notify/build-job-message.js';
import { allText, iso, mrkdwnStrings, sampleJob } from './notify-fixtures.js';

describe('job messages', () => {
  test('every stage has a non-empty fallback text, a header and valid sizes', () => {
    for (const stage of STAGES) {
      const msg = buildJobMessage(sampleJob(), stage);
      assert.ok(msg.text.length > 10, `${stage}: fallback text`);
      assert.equal(msg.blocks[0]?.type, 'header', `${stage}: header first`);
      assert.ok(msg.blocks.length <= SLACK_LIMITS.blocks);
      assert.match(msg.text, /api/, `${stage}: fallback names the target`);
    }
  });

  test('queued: alert, trigger, confidence, target and why it was queued', () => {
    const text = allText(buildJobMessage(sampleJob({ state: 'queued' }), 'queued'));
    for (const expected of [
      'Rollback queued',
      'CriticalErrorRate',
      'error_rate_threshold',
      'high',
      'Deployment payments/api',
      'confidence high meets the auto-rollback threshold',
      'Error rate above 5% for 5m',
    ]) {
      assert.ok(text.includes(expected), `missing ${expected}`);
    }
  });

  test('awaiting_approval: approve command with placeholders, never a secret, and the expiry', () => {
    const job = sampleJob({
      state: 'awaiting_approval',
      confidence: 'medium',
      approval: { expiresAt: iso(3_600_000) },
    });
    const msg = buildJobMessage(job, 'awaiting_approval', {
      baseUrl: 'https://ops:hunter2@rollback.example.com/',
    });
    const text = allText(msg);
    assert.ok(
      text.includes(
        'curl -u \\"$ROLLBACK_OPERATOR_USER:$ROLLBACK_OPERATOR_SECRET\\" -X POST https://rollback.example.com/api/admin/rollback/jobs/job-7f3a/approve',
      ),
      text,
    );
    assert.ok(!text.includes('hunter2'), 'credentials in the base URL are not shown');
    assert.ok(text.includes('2025-03-04T11:00:00.000Z'), 'expiry time shown');
    assert.match(msg.text, /expires 2025-03-04T11:00:00.000Z/);
  });

  test('awaiting_approval without a base URL uses a placeholder host', () => {
    const msg = buildJobMessage(
      sampleJob({ approval: { expiresAt: iso(1) } }),
      'awaiting_approval',
    );
    assert.ok(
      allText(msg).includes('$ROLLBACK_CONTROLLER_URL/api/admin/rollback/jobs/job-7f3a/approve'),
    );
  });

  test('started: revisions, image changes and links to the alert source and Alertmanager', () => {
    const msg = buildJobMessage(sampleJob(), 'started');
    const text = allText(msg);
    for (const expected of [
      'Rollback started',
      'CriticalErrorRate',
      'error_rate_threshold',
      'high',
      'Deployment payments/api',
      '7 → 6',
      '`api`: `registry.example/api:v2.1.0` → `registry.example/api:v2.0.3`',
      // `&` in the URL is sent as the entity Slack expects inside a link.
      '<http://prometheus.example/graph?g0.expr=rate(errors[5m])&amp;g0.tab=1|Alert source>',
      '<http://alertmanager.example/|Alertmanager>',
    ]) {
      assert.ok(text.includes(expected), `missing ${expected}`);
    }
    assert.match(msg.text, /CriticalErrorRate → Deployment payments\/api, revision 7 → 6/);
  });

  test('started: empty URLs give no links; a new container shows "none"', () => {
    const job = sampleJob({
      images: [{ container: 'sidecar', from: null, to: 'envoy:1.30' }],
    });
    job.alert = { ...job.alert, generatorURL: '', externalURL: '' };
    const text = allText(buildJobMessage(job, 'started'));
    assert.ok(!text.includes('Alert source'));
    assert.ok(!text.includes('Alertmanager'));
    assert.ok(text.includes('`sidecar`: _none_ → `envoy:1.30`'));
  });

  test('started: a script job names the script instead of revisions', () => {
    const job = sampleJob({
      executor: 'script',
      script: { path: 'helm-rollback.sh', args: [], timeoutSeconds: 60 },
    });
    delete job.target;
    delete job.fromRevision;
    delete job.toRevision;
    delete job.images;
    const text = allText(buildJobMessage(job, 'started'));
    assert.ok(text.includes('script helm-rollback.sh'));
    assert.ok(!text.includes('Revision'));
  });

  test('progress: replicas updated / ready / desired from the latest progress entry', () => {
    const job = sampleJob();
    job.timeline.push(
      {
        at: iso(2000),
        event: 'progress',
        message: 'old',
        data: { updated: 1, ready: 0, desired: 3 },
      },
      {
        at: iso(3000),
        event: 'progress',
        message: 'waiting for 1 old replica to terminate',
        data: { updated: 3, ready: 2, desired: 3 },
      },
    );
    const msg = buildJobMessage(job, 'progress');
    assert.ok(allText(msg).includes('3 updated · 2 ready · 3 desired'));
    assert.ok(allText(msg).includes('waiting for 1 old replica to terminate'));
    assert.match(msg.text, /3\/3 updated, 2\/3 ready/);
  });

  test('finished: outcome succeeded and the duration', () => {
    const job = sampleJob({
      state: 'succeeded',
      outcome: 'succeeded',
      finishedAt: iso(1_000 + 83_000),
    });
    const msg = buildJobMessage(job, 'finished');
    const text = allText(msg);
    assert.ok(text.includes('Rollback succeeded'));
    assert.ok(text.includes('*Outcome*\\nsucceeded'));
    assert.ok(text.includes('1m 23s'));
    assert.ok(text.includes('back on revision 6'));
    assert.match(
      msg.text,
      /Rollback succeeded: CriticalErrorRate → Deployment payments\/api in 1m 23s/,
    );
  });

  test('failed and skipped: the reason in words, escaped', () => {
    const failed = sampleJob({
      state: 'failed',
      outcome: 'failed',
      finishedAt: iso(601_000),
      reason: 'ProgressDeadlineExceeded: ReplicaSet "api-6d9" has timed out progressing',
    });
    const f = buildJobMessage(failed, 'failed');
    assert.ok(allText(f).includes('*Reason:* ProgressDeadlineExceeded: ReplicaSet'));
    assert.ok(allText(f).includes('10m 0s'));
    assert.match(f.text, /^Rollback failed: .*timed out progressing/);

    const skipped = sampleJob({
      state: 'skipped',
      outcome: 'skipped',
      reason: 'the workload moved on to revision 8 since the alert (pinned 7) & was not touched',
    });
    const s = buildJobMessage(skipped, 'skipped');
    assert.ok(allText(s).includes('Nothing was changed'));
    assert.ok(allText(s).includes('moved on to revision 8'));
    assert.ok(s.text.includes('&amp; was not touched'), 'alert-adjacent text is escaped');

    const noReason = buildJobMessage(sampleJob({ outcome: 'failed' }), 'failed');
    assert.ok(allText(noReason).includes('no reason was recorded'));
  });

  test('expired: the approval expired and nothing changed', () => {
    const job = sampleJob({
      state: 'expired',
      approval: { expiresAt: iso(3_600_000) },
      reason: 'approval expired',
    });
    const msg = buildJobMessage(job, 'expired');
    assert.ok(allText(msg).includes('approval expired'));
    assert.ok(allText(msg).includes('nothing was changed'));
    assert.ok(allText(msg).includes('2025-03-04T11:00:00.000Z'));
  });

  test('not_recovered: escalates with @here and says how long the alert kept firing', () => {
    const job = sampleJob({
      state: 'succeeded',
      outcome: 'succeeded',
      finishedAt: iso(60_000),
      verdict: 'not_recovered',
    });
    job.timeline.push({ at: iso(60_000 + 900_000), event: 'not_recovered', message: 'x' });
    const msg = buildJobMessage(job, 'not_recovered');
    assert.ok(msg.text.startsWith('<!here>'), 'the notification itself pings the channel');
    assert.ok(allText(msg).includes('still firing 15m 0s after it finished'));
    assert.equal(mrkdwnStrings(msg).filter((t) => t.includes('<!here>')).length, 2);
  });

  test('recovered: alert resolved N s after the rollback', () => {
    const job = sampleJob({
      state: 'succeeded',
      outcome: 'succeeded',
      verdict: 'recovered',
      recoverySeconds: 42,
    });
    const msg = buildJobMessage(job, 'recovered');
    assert.ok(allText(msg).includes('resolved 42 s after the rollback finished'));
    assert.ok(!allText(msg).includes('<!here>'), 'good news pings nobody');
  });

  test('coalesced alerts and labels appear in the small print', () => {
    const job = sampleJob({
      coalesced: [
        { alertname: 'CriticalP95Latency', fingerprint: 'f', startsAt: iso(0), at: iso(1) },
      ],
    });
    const text = allText(buildJobMessage(job, 'started'));
    assert.ok(text.includes('+1 more alert attached'));
    assert.ok(text.includes('severity=critical'));
    assert.ok(text.includes('Job `job-7f3a`'));
  });
});
