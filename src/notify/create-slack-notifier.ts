// Slack delivery for the deployment channel. Callers on the rollback path only hand a message
// over: building it is pure and cheap, sending happens later in a bounded queue of our own, so a
// slow, failing or hanging Slack never delays or fails a rollback. One message at a time keeps a
// job's messages in order. The webhook URL is a secret: it is used for the request and nowhere
// else (not in logs, errors, the job timeline or metrics).
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { FetchFunction, IncomingWebhookSendArguments } from '@slack/webhook';
import type { Job } from '../model/job.js';
import type {
  DecisionNotice,
  JobNotifier,
  JobStage,
  KillSwitchNotice,
  SentListener,
} from '../model/job-notifier.js';
import type { Metrics } from '../observability/metrics.js';
import type { SlackMessage } from './block-kit.js';
import { BoundedOutbox } from './bounded-outbox.js';
import { buildDecisionMessage } from './build-decision-message.js';
import { buildJobMessage } from './build-job-message.js';
import { buildKillSwitchMessage } from './build-kill-switch-message.js';
import { HeldMessages } from './held-messages.js';
import { ACTIVE_STAGES, progressNumbers } from './progress-numbers.js';
import { postToSlack } from './post-to-slack.js';
import { unrefTimer } from './unref-timer.js';
import { idleWithin } from './idle-within.js';
import { ProgressThrottle } from './progress-throttle.js';
import { withSlackRetries } from './with-slack-retries.js';
import { resolveChannel } from './resolve-channel.js';

export type Notifier = JobNotifier;

export interface SlackNotifierOptions {
  /** Incoming webhook URL (secret). Without it the notifier is disabled. */
  webhookUrl?: string | undefined;
  channel?: string | undefined;
  username?: string | undefined;
  iconEmoji?: string | undefined;
  namespaceChannels?: Record<string, string> | undefined;
  progressIntervalMs?: number | undefined;
  /** Attempts after the first one. */
  retries?: number | undefined;
  /** Per attempt. */
  timeoutMs?: number | undefined;
  maxPending?: number | undefined;
  /** External URL of the controller, for the approve command. */
  baseUrl?: string | undefined;
  /** The cluster this controller serves, named on every message. */
  cluster?: string | undefined;
  /** The API server and context, named on every message beside the cluster. */
  kube?: { server: string; context: string } | undefined;
  /** First retry delay; doubles per attempt. */
  retryBaseMs?: number | undefined;
  /** A 429 asking to wait longer than this is counted failed instead of blocking the queue. */
  maxRetryAfterMs?: number | undefined;
  metrics: Metrics;
  logger: Logger;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** How long a queued message waits for the job to start (then only "started" is posted). */
  queuedHoldMs?: number | undefined;
  /** Arms the timer that releases a held progress message (tests pass a manual one). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  fetch?: FetchFunction;
}

interface Outgoing {
  progress: boolean;
  jobId?: string;
  /** Stage or decision: bounded, safe to log. */
  kind: string;
  channel?: string;
  message: SlackMessage;
}

type Outcome = 'sent' | 'failed' | 'dropped' | 'disabled';

/** Every webhook post is a new channel message: a rollback posts at most this many in all. */
export const MAX_POSTS_PER_JOB = 4;
/**
 * Kept free for the outcome and its verdict: progress, then "started" after a "queued" that was
 * posted, are what a job that posted more goes without.
 */
const KEPT_FOR_THE_END = 2;
/** Jobs whose posts are counted; beyond it the oldest are forgotten. */
const COUNTED_JOBS = 2000;

export function createSlackNotifier(options: SlackNotifierOptions): Notifier {
  const log = options.logger.child({ component: 'slack' });
  const count = (outcome: Outcome) =>
    options.metrics.notifications.inc({ channel: 'slack', outcome });
  const checked = usableUrl(options.webhookUrl, log);
  if (!checked) return disabledNotifier(() => count('disabled'));
  const url: string = checked;
  const sentListeners: SentListener[] = [];

  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? unrefSleep;
  const timeoutMs = options.timeoutMs ?? 5000;
  const retryPolicy = {
    retries: options.retries ?? 3,
    retryBaseMs: options.retryBaseMs ?? 1000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    sleep,
  };
  const ctx = {
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.kube ? { kube: options.kube } : {}),
  };
  const outbox = new BoundedOutbox<Outgoing>(options.maxPending ?? 500);
  const queue = new PQueue({ concurrency: 1 });
  // Every webhook post is a new message in the channel: one progress post per job at most,
  // a whole interval after the stage before it and only with new numbers.
  const throttle = new ProgressThrottle<Outgoing>({
    intervalMs: options.progressIntervalMs ?? 60_000,
    maxPerKey: 1,
    now: clock,
    emit: (jobId, item) => {
      if (roomBeforeTheEnd(jobId)) enqueue(item);
    },
    ...(options.setTimer ? { setTimer: options.setTimer } : {}),
  });
  // Posts per job so far. A held job's awaiting-approval post uses the room progress would have
  // had, so a held job that is approved and then runs for 10 minutes still posts four in all.
  const posts = new Map<string, number>();
  const roomBeforeTheEnd = (jobId: string) =>
    (posts.get(jobId) ?? 0) + KEPT_FOR_THE_END < MAX_POSTS_PER_JOB;
  const counted = (jobId: string) => {
    const n = (posts.get(jobId) ?? 0) + 1;
    posts.delete(jobId);
    posts.set(jobId, n);
    if (posts.size > COUNTED_JOBS) posts.delete(posts.keys().next().value as string);
  };
  // "Queued" is held briefly: a job that starts meanwhile posts "started" alone.
  const queuedHold = new HeldMessages<Outgoing>({
    holdMs: options.queuedHoldMs ?? 10_000,
    release: (jobId, item) => {
      if (roomBeforeTheEnd(jobId)) enqueue(item);
    },
    ...(options.setTimer ? { setTimer: options.setTimer } : {}),
  });

  function enqueue(item: Outgoing): void {
    if (item.jobId) counted(item.jobId);
    for (const lost of outbox.push(item)) {
      count('dropped');
      log.warn({ jobId: lost.jobId, stage: lost.kind }, 'slack queue full: message dropped');
    }
    // One drain task per message; a task whose message was dropped finds the next one or none.
    void queue.add(async () => {
      // p-queue starts a task synchronously: yield first so no send work (undici's first-use
      // set-up, JSON encoding) ever runs on the caller's stack.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const next = outbox.shift();
      if (next) await deliver(next);
    });
  }

  async function deliver(item: Outgoing): Promise<void> {
    const payload: IncomingWebhookSendArguments = {
      text: item.message.text,
      blocks: item.message.blocks,
      unfurl_links: false,
      unfurl_media: false,
    };
    if (options.username) payload.username = options.username;
    if (options.iconEmoji) payload.icon_emoji = options.iconEmoji;
    if (item.channel) payload.channel = item.channel;
    const fields = { jobId: item.jobId, stage: item.kind, channel: item.channel };
    let attempts = 0;
    const result = await withSlackRetries(
      async () => {
        attempts++;
        const r = await postToSlack(url, payload, {
          timeoutMs,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
        return r.ok ? { ok: true as const, value: undefined } : r;
      },
      retryPolicy,
      // Status and a short code only: the error's text and config can carry the URL.
      (f, attempt, delay) =>
        log.info(
          { ...fields, attempt, status: f.status, errorCode: f.errorCode, retryInMs: delay },
          'slack post failed; retrying',
        ),
    );
    if (result.ok) {
      count('sent');
      log.debug({ ...fields, attempt: attempts }, 'slack message sent');
      if (item.jobId) recordSent(item.jobId, item);
      return;
    }
    count('failed');
    log.warn(
      { ...fields, attempt: attempts, status: result.status, errorCode: result.errorCode },
      'slack message not delivered',
    );
  }

  function recordSent(jobId: string, item: Outgoing): void {
    const where = item.channel ?? "the webhook's channel";
    for (const listener of sentListeners) {
      try {
        listener(jobId, { event: 'slack', message: `posted "${item.kind}" to ${where}` });
      } catch (err) {
        log.warn({ jobId, errName: (err as Error)?.name }, 'onSent listener threw');
      }
    }
  }

  return {
    enabled: true,
    onSent: (listener) => void sentListeners.push(listener),
    job(job: Job, stage: JobStage, opts: { channel?: string } = {}): void {
      // Buttons are app mode's; pause and resume are posted as such (killSwitch).
      if (stage === 'slack_action') return;
      try {
        const channel = resolveChannel({
          explicit: opts.channel,
          namespace: job.target?.namespace,
          namespaceChannels: options.namespaceChannels,
          fallback: options.channel,
        });
        const item: Outgoing = {
          progress: stage === 'progress',
          jobId: job.id,
          kind: stage,
          message: buildJobMessage(job, stage, ctx),
          ...(channel ? { channel } : {}),
        };
        if (item.progress) {
          if (!roomBeforeTheEnd(job.id)) return;
          throttle.offer(job.id, item, progressNumbers(job));
          return;
        }
        // Any later stage supersedes a held queued or progress message.
        const folded = queuedHold.take(job.id) !== undefined;
        if (stage === 'queued') {
          queuedHold.hold(job.id, item);
          return;
        }
        if (folded && stage === 'started')
          log.debug({ jobId: job.id }, 'queued folded into started');
        if (ACTIVE_STAGES.has(stage)) throttle.restart(job.id);
        else throttle.cancel(job.id);
        // A held job whose "queued" went out (it waited for its lane) has said it will run; its
        // "started" would take the room of the outcome or the verdict.
        if (stage === 'started' && !roomBeforeTheEnd(job.id)) return;
        enqueue(item);
      } catch (err) {
        count('failed');
        log.error(
          { jobId: job?.id, stage, errName: (err as Error)?.name },
          'could not build slack message',
        );
      }
    },
    killSwitch(notice: KillSwitchNotice): void {
      const channel = options.channel;
      enqueue({
        progress: false,
        kind: notice.paused ? 'paused' : 'resumed',
        message: buildKillSwitchMessage(notice, ctx),
        ...(channel ? { channel } : {}),
      });
    },
    decision(notice: DecisionNotice, opts: { channel?: string } = {}): void {
      try {
        const channel = resolveChannel({
          explicit: opts.channel,
          namespace: notice.target?.namespace,
          namespaceChannels: options.namespaceChannels,
          fallback: options.channel,
        });
        enqueue({
          progress: false,
          kind: notice.decision.slice(0, 40),
          message: buildDecisionMessage(notice, ctx),
          ...(channel ? { channel } : {}),
        });
      } catch (err) {
        count('failed');
        log.error({ errName: (err as Error)?.name }, 'could not build slack decision message');
      }
    },
    async flush(flushTimeoutMs: number): Promise<void> {
      queuedHold.releaseAll();
      throttle.releaseAll();
      if (!(await idleWithin(queue, flushTimeoutMs))) {
        log.warn(
          { pending: outbox.size + queue.pending },
          'slack flush timed out; pending messages abandoned',
        );
      }
    },
  };
}

/** The URL if it can be used; otherwise disabled, saying why without printing the value. */
function usableUrl(webhookUrl: string | undefined, log: Logger): string | undefined {
  if (!webhookUrl) {
    log.info('SLACK_WEBHOOK_URL is not set: Slack notifications are disabled');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(webhookUrl);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    log.error('SLACK_WEBHOOK_URL is not an http(s) URL: Slack notifications are disabled');
    return undefined;
  }
  return webhookUrl;
}

function disabledNotifier(countDisabled: () => void): Notifier {
  return {
    enabled: false,
    onSent: () => undefined,
    job: () => countDisabled(),
    decision: () => countDisabled(),
    killSwitch: () => countDisabled(),
    flush: async () => undefined,
  };
}

function unrefSleep(ms: number): Promise<void> {
  return new Promise((resolve) => unrefTimer(resolve, ms));
}
