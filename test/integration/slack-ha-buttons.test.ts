// Slack buttons across two controller processes on one Lease and a failover (request-URL mode).
// Slack reaches either pod through the Service: a click on the follower is verified there and
// forwarded to the leader with the replicas' signed forward; the leader acts once. The leader is
// SIGKILLed while one approved job is rolling out and another still waits for approval; the new
// leader adopts both from their workloads' signed marks, with the Slack message each one already
// has: a repeated click is answered with the job's state, a click on the held job approves it,
// and every later edit goes to the same message. A forged relay is refused.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import {
  BOT_TOKEN,
  CHANNEL,
  blockActions,
  startFakeSlack,
  type FakeSlack,
} from '../support/fake-slack.js';
import type { FakeKube } from '../support/fake-kube/index.js';
import { haFixture } from '../support/ha-fixture.js';
import {
  call,
  HANG_GUARD_MS,
  readyz,
  templatePatches,
  type Replica,
} from '../support/ha-replicas.js';
import { until } from '../support/until.js';

const NS = 'shop';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const PENDING = 'rollback-controller.io/pending-rollback';
const ALICE = { id: 'U0ALICE', username: 'alice' };
const TEST_TIMEOUT_MS = 600_000;

/** A click as Slack sends it: the form body, signed with the app's signing secret now. */
function signedClick(body: Record<string, unknown>) {
  const raw = `payload=${encodeURIComponent(JSON.stringify(body))}`;
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${raw}`).digest('hex')}`;
  return {
    raw,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': sig,
    },
  };
}

async function click(
  r: Replica,
  c: ReturnType<typeof signedClick>,
  extra: Record<string, string> = {},
): Promise<{ status: number; forwardedTo: string | null; text: string }> {
  const res = await fetch(`${r.url}/api/admin/rollback/slack/interactions`, {
    method: 'POST',
    headers: { ...c.headers, ...extra },
    body: c.raw,
  });
  return {
    status: res.status,
    forwardedTo: res.headers.get('x-rollback-forwarded-to'),
    text: await res.text(),
  };
}

/** The pending mark on a Deployment, parsed (undefined when none). */
function markOf(fake: FakeKube, name: string): any {
  const raw = fake.get('Deployment', NS, name).metadata.annotations?.[PENDING];
  return raw ? JSON.parse(raw) : undefined;
}

/** Every `approved` timeline entry of a job in a replica's journal, each once. */
function approvals(dir: string, r: Replica, jobId: string): string[] {
  const seen = new Set<string>();
  for (const line of readFileSync(join(dir, `data-${r.name}`, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)) {
    const rec = JSON.parse(line) as { t: string; job?: { id: string; timeline: any[] } };
    if (rec.t !== 'job' || rec.job?.id !== jobId) continue;
    for (const t of rec.job.timeline) if (t.event === 'approved') seen.add(`${t.at} ${t.message}`);
  }
  return [...seen];
}

describe('Slack buttons: two replicas and a failover', () => {
  let slack: FakeSlack;
  const ha = haFixture({
    prefix: 'rc-slack-ha-',
    config: [
      'rollout: { pollIntervalSeconds: 0.05, deadlineSeconds: 3600 }',
      'slack: { approvers: [U0ALICE] }',
    ],
    fake: { rolloutStepMs: 200 },
    deployedTwice: { namespace: NS, names: ['pay', 'cart'] },
    cleanUp: async () => {
      await slack?.close();
    },
  });
  before(async () => {
    slack = await startFakeSlack();
  });

  test(
    'approve acts exactly once across both replicas and a failover, on the same Slack messages',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const env = {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_CHANNEL: CHANNEL,
        SLACK_API_URL: slack.apiUrl,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        ROLLBACK_EXTERNAL_URL: 'https://rollback.example.com',
      };
      const [a, b] = await Promise.all([
        ha.replicas.start('slack-a', 'slack-buttons', env),
        ha.replicas.start('slack-b', 'slack-buttons', env),
      ]);
      let leader: Replica | undefined;
      await until(
        async () => {
          for (const r of [a, b]) if ((await readyz(r)).leader === 'leader') leader = r;
          return leader !== undefined;
        },
        HANG_GUARD_MS,
        'a leader is elected',
      );
      const follower = leader === a ? b : a;
      await until(
        async () =>
          (await call(follower, 'GET', 'status')).headers.get('x-rollback-forwarded-to') ===
          leader!.name,
        HANG_GUARD_MS,
        'the follower knows where the leader is',
      );
      const old = leader!;
      // pay's rollout holds until after the failover: its job is still rolling out at the kill.
      ha.fake.stickRollouts('Deployment', NS, 'pay', true);

      // Medium confidence: both wait for an approver. Alertmanager reaches the follower.
      const startsAt = new Date(Date.now() + 1000).toISOString();
      const accepted = await call(
        follower,
        'POST',
        'trigger',
        payload(['pay', 'cart'].map((n) => firing('RedisConnectionFailure', n, { startsAt }))),
      );
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const [pay, cart] = (
        accepted.body.decisions as Array<{ decision: string; jobId: string }>
      ).map((d) => {
        assert.equal(d.decision, 'awaiting_approval');
        return d.jobId;
      });
      // Each held job's message is posted, and its workload's mark carries the job held for
      // approval with that message: what a new leader needs.
      const refs: Record<string, { channel: string; ts: string }> = {};
      for (const [id, name] of [
        [pay, 'pay'],
        [cart, 'cart'],
      ] as const) {
        await until(
          async () => (refs[id] = (await call(follower, 'GET', `jobs/${id}`)).body.slack),
          HANG_GUARD_MS,
          `the message of ${name} is posted`,
        );
        await until(
          () => markOf(ha.fake, name)?.slack?.ts === refs[id].ts,
          HANG_GUARD_MS,
          `the mark on ${name} names its message`,
        );
        const mark = markOf(ha.fake, name);
        assert.equal(mark.jobId, id);
        assert.ok(mark.approval.expiresAt && !mark.approval.approvedAt, 'held for approval');
        assert.ok(mark.signature, 'signed like every mark');
      }
      assert.equal(slack.posts().length, 2, 'one message per job');

      // A click on the follower is forwarded (signed) to the leader, which approves.
      const first = signedClick(
        blockActions({
          actionId: 'rollback_approve',
          jobId: pay,
          user: ALICE,
          messageTs: refs[pay].ts,
        }),
      );
      const approved = await click(follower, first);
      assert.equal(approved.status, 200, approved.text);
      assert.equal(approved.forwardedTo, old.name);
      await until(
        () => templatePatches(ha.fake, NS, 'pay').length === 1,
        HANG_GUARD_MS,
        'the approved rollback is applied',
      );
      // The same request again, now straight to the leader: it remembered it (replay refused).
      assert.equal((await click(old, first)).status, 401);
      // Alice clicks again on the leader: answered with the job's state, nothing done.
      const again = await click(
        old,
        signedClick(blockActions({ actionId: 'rollback_approve', jobId: pay, user: ALICE })),
      );
      assert.equal(again.status, 200);
      await slack.waitFor(
        () => slack.ephemerals.filter((e) => e.text.includes(`job ${pay} is already`)).length === 1,
        HANG_GUARD_MS,
        'the repeated click is answered',
      );
      await until(
        () => markOf(ha.fake, 'pay')?.approval?.approvedAt !== undefined,
        HANG_GUARD_MS,
        'the mark on pay says approved',
      );
      assert.deepEqual(
        markOf(ha.fake, 'pay').slackActions.map((x: any) => [x.action, x.user.id]),
        [['approve', ALICE.id]],
      );

      // A forged relay to the leader: an invalid forward signature, or one made for another
      // request, is refused before anything is read; cart stays held.
      const forged = signedClick(
        blockActions({ actionId: 'rollback_approve', jobId: cart, user: ALICE }),
      );
      const bad = await click(old, forged, { 'x-rollback-forward-signature': 'e30.deadbeef' });
      assert.equal(bad.status, 401);
      assert.match(bad.text, /forward signature/);
      assert.equal((await call(old, 'GET', `jobs/${cart}`)).body.state, 'awaiting_approval');

      // The leader dies with pay rolling out and cart held.
      const beforeKill = slack.calls.length;
      old.child.kill('SIGKILL');
      await old.exited;
      await until(
        async () => (await readyz(follower)).leader === 'leader',
        HANG_GUARD_MS,
        'the follower takes over',
      );
      const now = follower;
      await until(
        async () => (await call(now, 'GET', `jobs/${cart}`)).status === 200,
        HANG_GUARD_MS,
        'the new leader adopted the held job',
      );
      const heldThere = (await call(now, 'GET', `jobs/${cart}`)).body;
      assert.equal(heldThere.state, 'awaiting_approval', 'still held for an approver');
      assert.deepEqual(heldThere.slack, refs[cart], 'with its message');
      assert.equal((await call(now, 'GET', `jobs/${pay}`)).body.slack.ts, refs[pay].ts);

      // A click on the dead leader's message after the failover: pay is answered, not redone.
      const stale = await click(
        now,
        signedClick(blockActions({ actionId: 'rollback_approve', jobId: pay, user: ALICE })),
      );
      assert.equal(stale.status, 200);
      await slack.waitFor(
        () => slack.ephemerals.filter((e) => e.text.includes(`job ${pay} is already`)).length === 2,
        HANG_GUARD_MS,
        'the click after the failover is answered with the state',
      );
      // pay's rollout goes on (the queue runs one job at a time: cart waits for it).
      ha.fake.stickRollouts('Deployment', NS, 'pay', false);
      // Approve on the held job's message: known to the new leader, and it acts.
      const approveCart = await click(
        now,
        signedClick(blockActions({ actionId: 'rollback_approve', jobId: cart, user: ALICE })),
      );
      assert.equal(approveCart.status, 200);
      await until(
        () => templatePatches(ha.fake, NS, 'cart').length === 1,
        HANG_GUARD_MS,
        'the held job, approved on the new leader, is applied',
      );
      await until(
        async () =>
          (await call(now, 'GET', 'jobs?state=succeeded')).body.jobs.length === 2 &&
          slack.posts().every((m) => !m.blocks.some((x: any) => x.type === 'actions')),
        HANG_GUARD_MS,
        'both rollbacks succeed and their messages lose their buttons',
      );

      // Exactly once: one PATCH per workload, one approval each, recorded once.
      for (const name of ['pay', 'cart']) {
        assert.equal(templatePatches(ha.fake, NS, name).length, 1, `${name} rolled back once`);
        assert.equal(
          ha.fake.get('Deployment', NS, name).spec.template.spec.containers[0].image,
          `${name}:v1`,
        );
      }
      assert.equal(approvals(ha.dir, old, pay).length, 1, 'pay approved once, on the old leader');
      assert.deepEqual(approvals(ha.dir, now, pay), [], 'and never again on the new one');
      assert.equal(approvals(ha.dir, now, cart).length, 1, 'cart approved once, on the new leader');
      for (const id of [pay, cart]) {
        const job = (await call(now, 'GET', `jobs/${id}`)).body;
        assert.deepEqual(
          job.slackActions.map((x: any) => [x.action, x.user.id]),
          [['approve', ALICE.id]],
          `${id}: one approval by alice`,
        );
      }
      // Same two messages: the new leader only edited them (and replied in their threads).
      assert.equal(slack.posts().length, 2, 'no second message after the failover');
      const afterKill = slack.calls.slice(beforeKill);
      assert.ok(
        afterKill.some((c) => c.method === 'chat.update' && c.args['ts'] === refs[pay].ts),
        'pay edited after the failover',
      );
      assert.ok(
        afterKill.some((c) => c.method === 'chat.update' && c.args['ts'] === refs[cart].ts),
        'cart edited after the failover',
      );
      assert.deepEqual(
        afterKill
          .filter((c) => c.method === 'chat.postMessage')
          .map((c) => c.args['thread_ts'])
          .filter((t) => t === undefined),
        [],
        'every post after the failover is a thread reply',
      );
      const final = slack.posts().map((m) => m.text);
      assert.ok(
        final.every((t) => /Rollback succeeded/.test(t)),
        final.join('\n'),
      );
      ha.passed();
    },
  );
});
