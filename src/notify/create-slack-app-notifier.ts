// Slack app mode: one message per job, posted at its first stage and edited in place
// (chat.update) at every later one; each stage and the progress go into the message's thread.
// The message is a projection of the job (build-app-message.ts): a stage only says "render the
// job again", and the outbox keeps just the latest render per message, so a slow Slack never
// works through a backlog of stale states. Sending happens in our own queue, off the rollback
// path: a slow, failing or rate-limiting Slack never delays or fails a rollback. The message's
// channel and ts go back to the controller (onPosted), which keeps them with the job.
//
// The first post carries Slack message metadata naming the job, and the controller journals the
// intent to post before it (onPosting). A job that has the intent but no ref (the process died
// between Slack's answer and the journal write), or that a new leader adopted without one, is
// looked up with conversations.history (include_all_metadata) before anything is posted, so a
// crash in that window never leaves the channel with two messages for one job.
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { WebClient } from '@slack/web-api';
import type { Job, SlackMessageRef } from '../model/job.js';
import type {
  DecisionNotice,
  JobNotifier,
  JobStage,
  KillSwitchNotice,
} from '../model/job-notifier.js';
import type { Metrics } from '../observability/metrics.js';
import type { SlackMessage } from './block-kit.js';
import { buildAppMessage } from './build-app-message.js';
import { buildDecisionMessage } from './build-decision-message.js';
import { buildJobMessage } from './build-job-message.js';
import { buildKillSwitchMessage } from './build-kill-switch-message.js';
import { callSlackApi } from './call-slack-api.js';
import type { MessageContext } from './message-context.js';
import { progressNumbers, ACTIVE_STAGES } from './progress-numbers.js';
import { idleWithin } from './idle-within.js';
import { ProgressThrottle } from './progress-throttle.js';
import { unrefTimer } from './unref-timer.js';
import { resolveChannel } from './resolve-channel.js';
import { withSlackRetries, type Attempt } from './with-slack-retries.js';

export interface SlackAppNotifierOptions {
  client: WebClient;
  /** SLACK_CHANNEL: a channel id. */
  channel: string;
  namespaceChannels?: Record<string, string> | undefined;
  ctx: MessageContext;
  progressIntervalMs?: number;
  retries?: number;
  retryBaseMs?: number;
  maxRetryAfterMs?: number;
  /** Jobs with unsent work at once; beyond it new jobs' messages are dropped (counted). */
  maxPending?: number;
  /** Thread replies kept per job while Slack is away (the oldest go first). */
  maxRepliesPerJob?: number;
  metrics: Metrics;
  logger: Logger;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  setTimer?: (fn: () => void, ms: number) => unknown;
}

/** A job's message: where it is, and what it should show that Slack does not show yet. */
/** What conversations.history says of a message's metadata (include_all_metadata). */
interface MessageMetadata {
  event_type?: unknown;
  event_payload?: { job_id?: unknown };
}

interface Slot {
  jobId: string;
  channel: string;
  ref?: SlackMessageRef | undefined;
  /** Look the message up before posting: it may have been posted by a process that died. */
  lookup?: { channel: string; since: number } | undefined;
  render?: SlackMessage | undefined;
  replies: string[];
  scheduled: boolean;
}

type Outcome = 'sent' | 'failed' | 'dropped';

/** chat.update answers these when the message is gone: post it again. */
const MESSAGE_GONE: ReadonlySet<string> = new Set(['message_not_found', 'cant_update_message']);
const REMEMBERED_REFS = 2000;
/** Slack message metadata `event_type` of a job's message; `event_payload.job_id` names the job. */
export const JOB_MESSAGE_EVENT_TYPE = 'rollback_job';
/** conversations.history pages read looking for a job's message (200 messages each). */
const LOOKUP_PAGES = 5;

export function createSlackAppNotifier(o: SlackAppNotifierOptions): JobNotifier {
  const log = o.logger.child({ component: 'slack', mode: 'app' });
  const count = (outcome: Outcome) => o.metrics.notifications.inc({ channel: 'slack', outcome });
  const sleep = o.sleep ?? ((ms) => new Promise<void>((r) => unrefTimer(r, ms)));
  const retryPolicy = {
    retries: o.retries ?? 3,
    retryBaseMs: o.retryBaseMs ?? 1000,
    maxRetryAfterMs: o.maxRetryAfterMs ?? 60_000,
    sleep,
  };
  const maxPending = o.maxPending ?? 500;
  const maxReplies = o.maxRepliesPerJob ?? 20;
  const slots = new Map<string, Slot>();
  /** Refs posted by this process, until the job carries them (the commit is asynchronous). */
  const refs = new Map<string, SlackMessageRef>();
  const postedListeners: Array<(jobId: string, ref: SlackMessageRef) => void> = [];
  const postingListeners: Array<(jobId: string, channel: string) => Promise<void>> = [];
  const queue = new PQueue({ concurrency: 1 });
  const latest = new Map<string, Job>();
  const throttle = new ProgressThrottle<string>({
    intervalMs: o.progressIntervalMs ?? 60_000,
    now: o.clock ?? Date.now,
    emit: (jobId) => {
      const job = latest.get(jobId);
      if (job) update(job, 'progress');
    },
    ...(o.setTimer ? { setTimer: o.setTimer } : {}),
  });

  async function call(
    method: string,
    args: Record<string, unknown>,
    fields: Record<string, unknown>,
  ): Promise<Attempt<Record<string, unknown>>> {
    const result = await withSlackRetries(
      async () => {
        const r = await callSlackApi(o.client, method, args);
        return r.ok
          ? { ok: true as const, value: r.data as unknown as Record<string, unknown> }
          : r;
      },
      retryPolicy,
      (f, attempt, delay) =>
        log.info(
          { ...fields, method, attempt, errorCode: f.errorCode, retryInMs: delay },
          'slack call failed; retrying',
        ),
    );
    if (result.ok) count('sent');
    else if (!MESSAGE_GONE.has(result.errorCode)) {
      count('failed');
      log.warn({ ...fields, method, errorCode: result.errorCode }, 'slack call failed');
    }
    return result;
  }

  function remember(jobId: string, ref: SlackMessageRef): void {
    refs.delete(jobId);
    refs.set(jobId, ref);
    if (refs.size > REMEMBERED_REFS) refs.delete(refs.keys().next().value as string);
    for (const l of postedListeners) {
      try {
        l(jobId, ref);
      } catch (err) {
        log.warn({ jobId, errName: (err as Error)?.name }, 'onPosted listener threw');
      }
    }
  }

  /** Posts or edits the job's message until Slack shows the latest render (or gives up). */
  async function sendRender(slot: Slot): Promise<void> {
    const fields = { jobId: slot.jobId };
    while (slot.render) {
      const message = slot.render;
      const body = { text: message.text, blocks: message.blocks };
      if (slot.ref) {
        const r = await call('chat.update', { ...slot.ref, ...body }, fields);
        if (!r.ok && MESSAGE_GONE.has(r.errorCode)) {
          log.info(fields, 'the job message was deleted in Slack; posting it again');
          slot.ref = undefined;
          continue;
        }
      } else {
        if (slot.lookup) {
          const found = await findPosted(slot.jobId, slot.lookup);
          slot.lookup = undefined;
          if (found) {
            log.info(fields, 'found the job message a previous process posted; editing it');
            slot.ref = found;
            remember(slot.jobId, found);
            continue;
          }
        }
        // Durable before the post: after a crash the message is looked up, not posted twice.
        for (const l of postingListeners) await l(slot.jobId, slot.channel).catch(() => undefined);
        const r = await call(
          'chat.postMessage',
          {
            channel: slot.channel,
            ...body,
            unfurl_links: false,
            unfurl_media: false,
            metadata: { event_type: JOB_MESSAGE_EVENT_TYPE, event_payload: { job_id: slot.jobId } },
          },
          fields,
        );
        if (r.ok && typeof r.value['ts'] === 'string') {
          const channel =
            typeof r.value['channel'] === 'string' ? r.value['channel'] : slot.channel;
          slot.ref = { channel, ts: r.value['ts'] };
          remember(slot.jobId, slot.ref);
        } else if (slot.render === message) {
          // Not posted: the thread has no parent. The next stage tries again.
          slot.render = undefined;
          drop(slot.replies.splice(0), fields);
          return;
        }
      }
      if (slot.render === message) slot.render = undefined;
    }
  }

  /** The job's message in the channel's recent history, by its metadata (newest first). */
  async function findPosted(
    jobId: string,
    where: { channel: string; since: number },
  ): Promise<SlackMessageRef | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < LOOKUP_PAGES; page++) {
      const r = await call(
        'conversations.history',
        {
          channel: where.channel,
          // A minute of slack for clocks: Slack's ts is Slack's time, `since` is ours.
          oldest: String(Math.floor(where.since / 1000) - 60),
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        },
        { jobId },
      );
      if (!r.ok) return undefined;
      const messages = Array.isArray(r.value['messages']) ? r.value['messages'] : [];
      for (const m of messages as Array<{ ts?: unknown; metadata?: MessageMetadata }>) {
        const meta = m?.metadata;
        if (
          meta?.event_type === JOB_MESSAGE_EVENT_TYPE &&
          meta.event_payload?.job_id === jobId &&
          typeof m.ts === 'string'
        )
          return { channel: where.channel, ts: m.ts };
      }
      const next = (r.value['response_metadata'] as { next_cursor?: unknown } | undefined)
        ?.next_cursor;
      if (r.value['has_more'] !== true || typeof next !== 'string' || !next) return undefined;
      cursor = next;
    }
    return undefined;
  }

  function drop(lost: string[], fields: Record<string, unknown>): void {
    for (let i = 0; i < lost.length; i++) count('dropped');
    if (lost.length) log.warn({ ...fields, dropped: lost.length }, 'slack thread replies dropped');
  }

  async function drain(slot: Slot): Promise<void> {
    slot.scheduled = false;
    await sendRender(slot);
    while (slot.ref && slot.replies.length) {
      const text = slot.replies.shift() as string;
      await call(
        'chat.postMessage',
        { channel: slot.ref.channel, thread_ts: slot.ref.ts, text, unfurl_links: false },
        { jobId: slot.jobId },
      );
    }
    if (!slot.scheduled && !slot.render && !slot.replies.length) slots.delete(slot.jobId);
  }

  function schedule(slot: Slot): void {
    if (slot.scheduled) return;
    slot.scheduled = true;
    void queue.add(async () => {
      // Never on the caller's stack: the first send work runs after the commit returned.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await drain(slot);
    });
  }

  function slotFor(job: Job, channelOverride: string | undefined): Slot | undefined {
    const existing = slots.get(job.id);
    if (existing) return existing;
    if (slots.size >= maxPending) return undefined;
    const ref = refs.get(job.id) ?? job.slack;
    const channel =
      ref?.channel ??
      resolveChannel({
        explicit: channelOverride,
        namespace: job.target?.namespace,
        namespaceChannels: o.namespaceChannels,
        fallback: o.channel,
      }) ??
      o.channel;
    // Posted by a process that died before journaling the ref, or by a leader that died first.
    const lookup =
      !ref && (job.slackPosting || job.origin === 'adopted')
        ? {
            channel: job.slackPosting?.channel ?? channel,
            since: Date.parse(job.slackPosting?.at ?? job.createdAt),
          }
        : undefined;
    const slot: Slot = { jobId: job.id, channel, ref, lookup, replies: [], scheduled: false };
    slots.set(job.id, slot);
    return slot;
  }

  /** Render the job again and, unless this creates the message, say what happened in its thread. */
  function update(job: Job, stage: JobStage, channel?: string): void {
    const slot = slotFor(job, channel);
    if (!slot) {
      count('dropped');
      log.warn({ jobId: job.id, stage }, 'slack outbox full: message dropped');
      return;
    }
    const firstPost = !slot.ref && !slot.render;
    slot.render = buildAppMessage(job, o.ctx);
    if (!firstPost) {
      slot.replies.push(buildJobMessage(job, stage, o.ctx).text);
      drop(slot.replies.splice(0, Math.max(0, slot.replies.length - maxReplies)), {
        jobId: job.id,
      });
    }
    schedule(slot);
  }

  function post(kind: string, message: SlackMessage, channel: string): void {
    void queue.add(async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await call(
        'chat.postMessage',
        { channel, text: message.text, blocks: message.blocks, unfurl_links: false },
        { kind },
      );
    });
  }

  return {
    enabled: true,
    onPosted: (listener) => void postedListeners.push(listener),
    onPosting: (listener) => void postingListeners.push(listener),
    job(job, stage, opts = {}) {
      try {
        if (stage === 'progress') {
          latest.set(job.id, job);
          throttle.offer(job.id, job.id, progressNumbers(job));
          return;
        }
        latest.delete(job.id);
        if (ACTIVE_STAGES.has(stage)) throttle.restart(job.id);
        else throttle.cancel(job.id);
        update(job, stage, opts.channel);
      } catch (err) {
        count('failed');
        log.error({ jobId: job?.id, stage, errName: (err as Error)?.name }, 'could not build');
      }
    },
    decision(notice: DecisionNotice, opts = {}) {
      const channel =
        resolveChannel({
          explicit: opts.channel,
          namespace: notice.target?.namespace,
          namespaceChannels: o.namespaceChannels,
          fallback: o.channel,
        }) ?? o.channel;
      post(notice.decision.slice(0, 40), buildDecisionMessage(notice, o.ctx), channel);
    },
    killSwitch(notice: KillSwitchNotice) {
      post(notice.paused ? 'paused' : 'resumed', buildKillSwitchMessage(notice, o.ctx), o.channel);
    },
    async flush(timeoutMs: number) {
      throttle.releaseAll();
      if (!(await idleWithin(queue, timeoutMs)))
        log.warn({ pending: slots.size }, 'slack flush timed out; pending messages abandoned');
    },
  };
}
