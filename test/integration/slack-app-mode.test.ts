// Slack app mode against a local Slack that the real @slack/web-api client talks to: one message
// per rollback, edited in place at every stage, its timeline in the thread, buttons gone once it
// ended, the message's place kept with the job (and after a restart), and a slow, rate-limiting
// or absent Slack never holding a rollback back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { BOT_TOKEN, CHANNEL, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const HANG_GUARD_MS = 60_000;

function appEnv(slack: FakeSlack): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_CHANNEL: CHANNEL,
    SLACK_API_URL: slack.apiUrl,
    ROLLBACK_EXTERNAL_URL: 'https://rollback.example.com',
    ROLLBACK_CLUSTER_NAME: 'us-1',
  };
}

const actionIds = (blocks: any[]): string[] =>
  blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements.map((e: any) => e.action_id));

async function jobState(s: TestServer, id: string): Promise<any> {
  return (await s.request('GET', `jobs/${id}`)).body;
}

describe('Slack app mode: one message per rollback', () => {
  let slack: FakeSlack;
  let s: TestServer;
  before(async () => {
    slack = await startFakeSlack();
    s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      env: appEnv(slack),
      configText: 'slack: { progressIntervalSeconds: 0.05 }',
    });
  });
  after(async () => {
    await s.close();
    await slack.close();
  });

  test('a rollback is one message, edited at every stage, with its timeline in the thread', async () => {
    const r = await s.request(
      'POST',
      'trigger',
      payload([firing('CriticalErrorRate', 'checkout')]),
    );
    const id = r.body.decisions[0].jobId as string;
    await until(async () => (await jobState(s, id)).state === 'succeeded', HANG_GUARD_MS);
    await until(async () => (await jobState(s, id)).slack !== undefined, HANG_GUARD_MS);
    const job = await jobState(s, id);
    const posts = slack.posts();
    assert.equal(posts.length, 1, 'one message in the channel');
    const [msg] = posts;
    assert.deepEqual(job.slack, { channel: CHANNEL, ts: msg.ts }, 'the job keeps where it is');
    await slack.waitFor(
      () => /Rollback succeeded/.test(JSON.stringify(msg.blocks)),
      HANG_GUARD_MS,
      'the message shows the outcome',
    );
    const shown = JSON.stringify(msg.blocks);
    for (const fact of ['us-1', 'shop/checkout', '7', 'Decided by', 'policy', `jobs/${id}`])
      assert.ok(shown.includes(fact), `the message names ${fact}`);
    assert.deepEqual(actionIds(msg.blocks), [], 'no buttons once the job ended');
    assert.ok(msg.versions.length >= 2, 'edited in place');
    assert.deepEqual(
      actionIds(msg.versions[0].blocks),
      ['rollback_pause'],
      'a job that can still act offers Pause',
    );
    assert.ok(
      msg.versions.every((v) => v.text.includes('shop/checkout')),
      'every version is about the same job',
    );
    await slack.waitFor(() => slack.replies(msg.ts).some((m) => /succeeded/.test(m.text)));
    assert.ok(slack.replies(msg.ts).length >= 1, 'the timeline is in the thread');
    const methods = slack.calls.map((c) => c.method);
    assert.equal(methods.filter((m) => m === 'chat.update').length, msg.versions.length - 1);
  });

  test('the token never reaches logs, messages or the job', async () => {
    const everything = [s.logs.join('\n'), JSON.stringify(slack.messages)].join('\n');
    assert.ok(!everything.includes(BOT_TOKEN));
    assert.ok(
      slack.calls.every((c) => !JSON.stringify(c.args).includes(BOT_TOKEN)),
      'only in the Authorization header',
    );
  });
});

describe('Slack app mode: Slack slow, limited or gone', () => {
  test('a hanging Slack never delays the rollback; the message arrives once Slack is back', async () => {
    const slack = await startFakeSlack();
    let down = true;
    slack.failWith(() => (down ? { hang: true } : undefined));
    const s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      env: appEnv(slack),
      configText: 'slack: { timeoutSeconds: 0.5, retries: 10 }',
    });
    try {
      const r = await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', 'api')]));
      assert.equal(r.status, 202);
      const id = r.body.decisions[0].jobId as string;
      await until(async () => (await jobState(s, id)).state === 'succeeded', HANG_GUARD_MS);
      assert.equal(slack.messages.length, 0, 'the rollback finished while Slack answered nothing');
      down = false;
      await slack.waitFor(
        () => slack.posts().some((m) => /Rollback succeeded/.test(JSON.stringify(m.blocks))),
        HANG_GUARD_MS,
        'the latest state once Slack is back',
      );
      assert.equal(slack.posts().length, 1);
    } finally {
      await s.close();
      await slack.close();
    }
  });

  test('a 429 is retried after its Retry-After, and a failing channel is counted', async () => {
    const slack = await startFakeSlack();
    let limited = 1;
    slack.failWith((method) =>
      method === 'chat.postMessage' && limited-- > 0
        ? {
            status: 429,
            headers: { 'retry-after': '1' },
            body: { ok: false, error: 'ratelimited' },
          }
        : undefined,
    );
    const s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      env: appEnv(slack),
    });
    try {
      await s.request('POST', 'trigger', payload([firing('CriticalErrorRate', 'api')]));
      await slack.waitFor(() => slack.posts().length === 1, HANG_GUARD_MS, 'the retried post');
      assert.equal(slack.calls[0]?.answer, 'http_429');
      assert.ok(
        s.logs.some((l) => /slack call failed; retrying/.test(l) && /"retryInMs":1000/.test(l)),
        'the retry waited what Retry-After asked',
      );
    } finally {
      await s.close();
      await slack.close();
    }
  });
});

describe('Slack app mode: edits continue after a restart', () => {
  test('a restarted controller edits the message the first one posted', async () => {
    const slack = await startFakeSlack();
    const dataDir = mkdtempSync(join(tmpdir(), 'rc-slack-restart-'));
    const exec = new RecordingExecutor();
    exec.gate = new Promise(() => undefined); // the rollback runs until the process dies
    const first = await startTestServer({
      executors: { kubernetes: exec },
      env: appEnv(slack),
      dataDir,
    });
    let second: TestServer | undefined;
    try {
      const r = await first.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'api')]),
      );
      const id = r.body.decisions[0].jobId as string;
      await until(async () => (await jobState(first, id)).slack !== undefined, HANG_GUARD_MS);
      const { ts } = (await jobState(first, id)).slack;
      await first.abandon(); // no goodbye: the journal is all the next process has
      second = await startTestServer({
        executors: { kubernetes: new RecordingExecutor() },
        env: appEnv(slack),
        dataDir,
      });
      const s2 = second;
      await until(async () => (await jobState(s2, id)).state === 'succeeded', HANG_GUARD_MS);
      await slack.waitFor(
        () => /Rollback succeeded/.test(JSON.stringify(slack.posts()[0]?.blocks)),
        HANG_GUARD_MS,
        'the first message shows the outcome',
      );
      assert.equal(slack.posts().length, 1, 'no second message after the restart');
      assert.equal(slack.posts()[0].ts, ts);
      assert.deepEqual((await jobState(s2, id)).slack, { channel: CHANNEL, ts });
    } finally {
      await second?.close();
      rmSync(dataDir, { recursive: true, force: true });
      await slack.close();
    }
  });
});
