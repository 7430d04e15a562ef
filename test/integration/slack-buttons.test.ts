// Buttons on the job's Slack message, clicked the two ways Slack delivers them: signed POSTs to
// the request URL (made exactly as Slack signs them) and `interactive` envelopes over Socket
// Mode from the local Slack. Only approvers (a user id, or a member of a listed user group) may
// approve, deny or resume; a forged, stale, future or replayed request is refused before
// anything happens; a click on a decided job answers with its state and never acts twice.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import {
  APP_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  blockActions,
  startFakeSlack,
  type FakeSlack,
} from '../support/fake-slack.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const HANG_GUARD_MS = 60_000;
const ALICE = { id: 'U0ALICE', username: 'alice' };
const BOB = { id: 'U0BOB', username: 'bob' }; // in the approvers' user group
const MALLORY = { id: 'U0MALLORY', username: 'mallory' };
const CONFIG = 'slack: { approvers: [U0ALICE, S0ONCALL] }';

function env(slack: FakeSlack, extra: Record<string, string>): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_CHANNEL: CHANNEL,
    SLACK_API_URL: slack.apiUrl,
    ROLLBACK_EXTERNAL_URL: 'https://rollback.example.com',
    ...extra,
  };
}

/** The form body and headers Slack sends for a click, signed with `secret` at `ts`. */
function signedClick(body: Record<string, unknown>, ts: number, secret = SIGNING_SECRET) {
  const raw = `payload=${encodeURIComponent(JSON.stringify(body))}`;
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${raw}`).digest('hex')}`;
  return {
    raw,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': sig,
    },
  };
}

async function post(s: TestServer, click: ReturnType<typeof signedClick>): Promise<number> {
  const res = await fetch(`${s.url}/api/admin/rollback/slack/interactions`, {
    method: 'POST',
    headers: click.headers,
    body: click.raw,
  });
  await res.arrayBuffer();
  return res.status;
}

const now = () => Math.floor(Date.now() / 1000);
const actionIds = (blocks: any[]): string[] =>
  blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements.map((e: any) => e.action_id));

async function heldJob(s: TestServer, slack: FakeSlack, name: string) {
  // Medium confidence waits for approval with the shipped rules.
  const r = await s.request('POST', 'trigger', payload([firing('RedisConnectionFailure', name)]));
  assert.equal(r.body.decisions[0].decision, 'awaiting_approval');
  const id = r.body.decisions[0].jobId as string;
  await until(async () => (await s.request('GET', `jobs/${id}`)).body.slack, HANG_GUARD_MS);
  const { ts } = (await s.request('GET', `jobs/${id}`)).body.slack;
  const message = () => slack.posts().find((m) => m.ts === ts)!;
  return { id, ts, message };
}

describe('Slack buttons through the request URL', () => {
  let slack: FakeSlack;
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    slack = await startFakeSlack();
    slack.userGroups.set('S0ONCALL', [BOB.id]);
    s = await startTestServer({
      executors: { kubernetes: exec },
      env: env(slack, { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
      configText: CONFIG,
    });
  });
  after(async () => {
    await s.close();
    await slack.close();
  });

  test('a held job offers Approve, Deny and Pause; only an approver approves, once', async () => {
    const { id, ts, message } = await heldJob(s, slack, 'cart');
    assert.deepEqual(actionIds(message().blocks), [
      'rollback_approve',
      'rollback_deny',
      'rollback_pause',
    ]);
    const button = message().blocks.find((b) => b.type === 'actions').elements[0];
    assert.equal(button.value, id, 'the button carries the job id');

    // Someone outside slack.approvers: refused, to them only; the job still waits.
    const click = (user: typeof ALICE) =>
      signedClick(
        blockActions({ actionId: 'rollback_approve', jobId: id, user, messageTs: ts }),
        now(),
      );
    assert.equal(await post(s, click(MALLORY)), 200);
    await slack.waitFor(() => slack.ephemerals.some((e) => e.user === MALLORY.id));
    assert.match(slack.ephemerals.find((e) => e.user === MALLORY.id)!.text, /slack\.approvers/);
    assert.equal((await s.request('GET', `jobs/${id}`)).body.state, 'awaiting_approval');

    // An approver: the job runs, and says who approved it.
    assert.equal(await post(s, click(ALICE)), 200);
    await until(
      async () => (await s.request('GET', `jobs/${id}`)).body.state === 'succeeded',
      HANG_GUARD_MS,
    );
    const job = (await s.request('GET', `jobs/${id}`)).body;
    assert.equal(job.approval.approvedBy, 'slack:alice (U0ALICE)');
    assert.deepEqual(
      job.slackActions.map((a: any) => [a.action, a.user.id, a.user.name]),
      [['approve', 'U0ALICE', 'alice']],
    );

    // A second approver clicks the same (now stale) button: told the state, nothing runs again.
    assert.equal(await post(s, click(BOB)), 200);
    await slack.waitFor(() => slack.ephemerals.some((e) => e.user === BOB.id));
    assert.match(
      slack.ephemerals.find((e) => e.user === BOB.id)!.text,
      /already (queued|running|succeeded)/,
    );
    assert.deepEqual(exec.executed(), [id], 'executed exactly once');

    await slack.waitFor(
      () =>
        /approved by <@U0ALICE>/.test(JSON.stringify(message().blocks)) &&
        actionIds(message().blocks).length === 0,
      HANG_GUARD_MS,
      'the message says who approved, and its buttons are gone',
    );
    assert.equal(slack.posts().filter((m) => m.ts === ts).length, 1);
  });

  test('a forged, stale, future or replayed request is refused and changes nothing', async () => {
    const { id } = await heldJob(s, slack, 'search');
    const body = blockActions({ actionId: 'rollback_approve', jobId: id, user: ALICE });
    assert.equal(await post(s, signedClick(body, now(), 'not-the-signing-secret')), 401, 'forged');
    assert.equal(await post(s, signedClick(body, now() - 301)), 401, 'stale');
    assert.equal(await post(s, signedClick(body, now() + 301)), 401, 'from the future');
    const unsigned = signedClick(body, now());
    assert.equal(
      await post(s, { ...unsigned, headers: { ...unsigned.headers, 'x-slack-signature': '' } }),
      401,
      'unsigned',
    );
    const tampered = signedClick(body, now());
    assert.equal(
      await post(s, {
        ...tampered,
        raw: tampered.raw.replace('rollback_approve', 'rollback_deny'),
      }),
      401,
      'body changed after signing',
    );
    assert.equal((await s.request('GET', `jobs/${id}`)).body.state, 'awaiting_approval');

    // Deny is an approver's decision too; the same signed request again is a replay.
    const deny = signedClick(
      blockActions({ actionId: 'rollback_deny', jobId: id, user: BOB }),
      now(),
    );
    assert.equal(await post(s, deny), 200);
    await until(async () => (await s.request('GET', `jobs/${id}`)).body.state === 'skipped');
    assert.equal(await post(s, deny), 401, 'replayed');
    const job = (await s.request('GET', `jobs/${id}`)).body;
    assert.equal(job.reason, 'denied by slack:bob (U0BOB)');
    assert.ok(!exec.executed().includes(id));
    const refusals = s.logs.filter((l) => l.includes('slack interaction refused'));
    assert.ok(refusals.length >= 6);
    assert.ok(!s.logs.join('\n').includes(SIGNING_SECRET), 'the signing secret is never logged');
  });
});

describe('Slack buttons through Socket Mode', () => {
  let slack: FakeSlack;
  let s: TestServer;
  before(async () => {
    slack = await startFakeSlack();
    slack.userGroups.set('S0ONCALL', [BOB.id]);
    s = await startTestServer({
      executors: { kubernetes: new RecordingExecutor() },
      env: env(slack, { SLACK_APP_TOKEN: APP_TOKEN }),
      configText: CONFIG,
    });
    await slack.socket.waitForConnections(1, HANG_GUARD_MS);
  });
  after(async () => {
    await s.close();
    await slack.close();
  });

  test('deny, pause and resume arrive as envelopes, are acked, and act through the job', async () => {
    const { id, message } = await heldJob(s, slack, 'web');
    const ack = await slack.socket.interactive(
      blockActions({ actionId: 'rollback_deny', jobId: id, user: BOB }),
    );
    assert.ok(ack.envelope_id, 'acknowledged by envelope id');
    await until(async () => (await s.request('GET', `jobs/${id}`)).body.state === 'skipped');
    await slack.waitFor(() => /denied by <@U0BOB>/.test(JSON.stringify(message().blocks)));
    assert.deepEqual(actionIds(message().blocks), []);

    // Pause is the safe direction: anyone in the channel may press it.
    const second = await heldJob(s, slack, 'api');
    await slack.socket.interactive(
      blockActions({ actionId: 'rollback_pause', jobId: second.id, user: MALLORY }),
    );
    await until(async () => (await s.request('GET', 'status')).body.paused.paused === true);
    await slack.waitFor(() => actionIds(second.message().blocks).includes('rollback_resume'));
    assert.match(JSON.stringify(second.message().blocks), /paused by <@U0MALLORY>/);

    // Slack recycles the connection: the client reconnects, and clicks keep working.
    const opened = slack.socket.opened;
    slack.socket.disconnectAll();
    await slack.waitFor(() => slack.socket.opened > opened, HANG_GUARD_MS, 'a new connection');
    await slack.socket.waitForConnections(1, HANG_GUARD_MS);

    // Resume makes rollbacks happen again: an approver's only.
    await slack.socket.interactive(
      blockActions({ actionId: 'rollback_resume', jobId: second.id, user: MALLORY }),
    );
    await slack.waitFor(() => slack.ephemerals.some((e) => e.user === MALLORY.id));
    assert.equal((await s.request('GET', 'status')).body.paused.paused, true);
    await slack.socket.interactive(
      blockActions({ actionId: 'rollback_resume', jobId: second.id, user: ALICE }),
    );
    // The kill switch moves first, then the job records who moved it (two commits).
    await until(
      async () => (await s.request('GET', `jobs/${second.id}`)).body.slackActions.length === 2,
    );
    assert.equal((await s.request('GET', 'status')).body.paused.paused, false);
    const job = (await s.request('GET', `jobs/${second.id}`)).body;
    assert.deepEqual(
      job.slackActions.map((a: any) => `${a.action}:${a.user.id}`),
      ['pause:U0MALLORY', 'resume:U0ALICE'],
    );
    assert.ok(!s.logs.join('\n').includes(APP_TOKEN));
  });
});
