// Slack app mode across a SIGKILL: the controller (a real child process) posts the rollback's one
// message, is killed mid-rollout, and the restarted process on the same data directory edits
// that same message to the outcome: the channel never gets a second message for the job.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { BOT_TOKEN, CHANNEL, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { until } from '../support/until.js';
import { deployedTwice, jobIn, startsNow } from './support/cluster.js';
import {
  freePort,
  startControllerProcess,
  type ControllerProcess,
} from './support/controller-process.js';

const NS = 'shop';
const HANG_GUARD_MS = 60_000;

let fake: FakeKube;
let slack: FakeSlack;
let root: string;
const live = new Set<ControllerProcess>();

before(async () => {
  fake = await startFakeKube({ rolloutStepMs: 10 });
  slack = await startFakeSlack();
  root = mkdtempSync(join(tmpdir(), 'rc-slack-crash-'));
  writeFileSync(join(root, 'config.yaml'), 'rollout: { pollIntervalSeconds: 0.05 }\n');
});
after(async () => {
  for (const p of live) await p.kill9();
  await slack.close();
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});

/** Starts (and restarts) a Slack-app controller process on one data folder and port. */
async function controllerOn(folder: string): Promise<() => Promise<ControllerProcess>> {
  const dataDir = join(root, folder);
  const port = await freePort();
  return async () => {
    const p = await startControllerProcess({
      dataDir,
      port,
      config: join(root, 'config.yaml'),
      env: {
        KUBECONFIG: fake.kubeconfigPath,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_CHANNEL: CHANNEL,
        SLACK_API_URL: slack.apiUrl,
      },
    });
    live.add(p);
    return p;
  };
}

test('edits resume on the same message after SIGKILL mid-rollout', async () => {
  const start = await controllerOn('data');
  await deployedTwice(fake, NS, 'checkout');
  // The rollback's new pods never become ready until the test lets them: it is mid-rollout
  // when the process dies.
  fake.stickRollouts('Deployment', NS, 'checkout', true);
  const first = await start();
  const r = await first.call(
    'POST',
    'trigger',
    payload([firing('CriticalErrorRate', 'checkout', { startsAt: startsNow() })]),
  );
  const id = r.body.decisions[0].jobId as string;
  await until(
    async () => {
      const job = (await first.call('GET', `jobs/${id}`)).body;
      return job.state === 'running' && job.patched === true && job.slack !== undefined;
    },
    HANG_GUARD_MS,
    'patched, running, and its message posted',
  );
  const { ts } = (await first.call('GET', `jobs/${id}`)).body.slack;
  await first.kill9();
  live.delete(first);

  fake.stickRollouts('Deployment', NS, 'checkout', false);
  const second = await start();
  const job = await jobIn(second.call, id, ['succeeded', 'failed'], HANG_GUARD_MS);
  assert.equal(job.state, 'succeeded', job.reason);
  assert.deepEqual(job.slack, { channel: CHANNEL, ts });
  await slack.waitFor(
    () => /Rollback succeeded/.test(JSON.stringify(slack.posts()[0]?.blocks)),
    HANG_GUARD_MS,
    'the first message shows the outcome',
  );
  assert.equal(slack.posts().length, 1, 'one message for the job, before and after the crash');
  assert.equal(slack.posts()[0].ts, ts);
  assert.ok(slack.replies(ts).length >= 1, 'the thread goes on too');
  await second.stop();
  live.delete(second);
});

test('a crash between Slack posting the message and the journal write posts no second message', async () => {
  const start = await controllerOn('data-window');
  await deployedTwice(fake, NS, 'payments');
  fake.stickRollouts('Deployment', NS, 'payments', true);
  const postsBefore = slack.posts().length;
  // The crash point: Slack creates the job's message, and its answer never reaches the process,
  // which is killed there. The ts was never journaled; only the intent to post was.
  slack.failWith((method, args) =>
    method === 'chat.postMessage' && !args['thread_ts'] ? { hang: true, apply: true } : undefined,
  );
  const first = await start();
  const r = await first.call(
    'POST',
    'trigger',
    payload([firing('CriticalErrorRate', 'payments', { startsAt: startsNow() })]),
  );
  const id = r.body.decisions[0].jobId as string;
  await slack.waitFor(
    () => slack.posts().length === postsBefore + 1,
    HANG_GUARD_MS,
    'Slack has the job message',
  );
  const message = slack.posts().at(-1)!;
  assert.deepEqual(message.metadata, { event_type: 'rollback_job', event_payload: { job_id: id } });
  const journaled = (await first.call('GET', `jobs/${id}`)).body;
  assert.equal(journaled.slack, undefined, 'the ts never reached the journal');
  assert.equal(journaled.slackPosting.channel, CHANNEL, 'the intent did, before the post');
  await first.kill9();
  live.delete(first);

  slack.failWith(undefined);
  fake.stickRollouts('Deployment', NS, 'payments', false);
  const lookupsBefore = slack.calls.filter((c) => c.method === 'conversations.history').length;
  const second = await start();
  const job = await jobIn(second.call, id, ['succeeded', 'failed'], HANG_GUARD_MS);
  assert.equal(job.state, 'succeeded', job.reason);
  await slack.waitFor(
    () => /Rollback succeeded/.test(JSON.stringify(message.blocks)),
    HANG_GUARD_MS,
    'the message Slack already had shows the outcome',
  );
  assert.equal(slack.posts().length, postsBefore + 1, 'no second message for the job');
  const lookups = slack.calls
    .filter((c) => c.method === 'conversations.history')
    .slice(lookupsBefore);
  assert.equal(lookups.length, 1, 'looked up once');
  assert.equal(String(lookups[0].args['include_all_metadata']), 'true');
  await until(
    async () => (await second.call('GET', `jobs/${id}`)).body.slack?.ts === message.ts,
    HANG_GUARD_MS,
    'the found message is journaled with the job',
  );
  await second.stop();
  live.delete(second);
});
