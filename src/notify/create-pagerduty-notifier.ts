// PagerDuty change events (Events API v2): each finished rollback that changed something is sent
// as a change event, so responders see "rolled back shop/checkout 1.4.2 → 1.4.1" in the
// incident's recent changes. Like Slack, it is fire-and-forget off the rollback path, retried, and
// counted in rollback_notifications_total{channel="pagerduty"}. The routing key is a secret: it
// is in the request body only.
// https://developer.pagerduty.com/docs/send-change-events-to-pagerduty
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { Job } from '../model/job.js';
import type { JobNotifier } from '../model/job-notifier.js';
import type { Metrics } from '../observability/metrics.js';
import { jobUrl } from './controller-url.js';
import { idleWithin } from './idle-within.js';
import { parseRetryAfter } from './post-to-slack.js';
import { transportErrorCode } from './transport-error-code.js';
import { unrefTimer } from './unref-timer.js';
import { withSlackRetries, type Attempt } from './with-slack-retries.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/change/enqueue';

export interface PagerDutyOptions {
  routingKey: string;
  /** PAGERDUTY_EVENTS_URL: the change-events endpoint (tests, proxies). */
  eventsUrl?: string | undefined;
  cluster?: string | undefined;
  externalUrl?: string | undefined;
  timeoutMs?: number;
  retries?: number;
  retryBaseMs?: number;
  metrics: Metrics;
  logger: Logger;
  fetch?: typeof fetch;
}

/** "1.4.2" from "registry/shop/checkout:1.4.2" (the tag, else the digest's start), else the ref. */
function version(image: string | null | undefined): string | undefined {
  if (!image) return undefined;
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1, at + 20);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : image;
}

/** The change event for a finished job, or undefined when nothing was changed. */
export function changeEvent(
  job: Job,
  o: { routingKey: string; cluster?: string | undefined; externalUrl?: string | undefined },
) {
  if (!job.actedAt || (job.state !== 'succeeded' && job.state !== 'failed')) return undefined;
  const what = job.target
    ? `${job.target.namespace}/${job.target.name}`
    : (job.script?.path ?? 'script');
  const image = job.images?.[0];
  const from =
    version(image?.from) ??
    (job.fromRevision !== undefined ? `revision ${job.fromRevision}` : undefined);
  const to =
    version(image?.to) ?? (job.toRevision !== undefined ? `revision ${job.toRevision}` : undefined);
  const change = from && to ? ` ${from} → ${to}` : '';
  const verb = job.state === 'succeeded' ? 'rolled back' : 'rollback failed for';
  const link = jobUrl(job.id, o.externalUrl);
  return {
    routing_key: o.routingKey,
    payload: {
      summary: `${verb} ${what}${change}`.slice(0, 1024),
      timestamp: job.finishedAt ?? job.actedAt,
      source: o.cluster ?? 'rollback-controller',
      custom_details: {
        job_id: job.id,
        outcome: job.state,
        reason: job.reason,
        alert: job.alert.alertname,
        trigger: job.trigger,
        confidence: job.confidence,
        ...(job.target ? { workload: `${job.target.kind} ${what}` } : {}),
        from_revision: job.fromRevision,
        to_revision: job.toRevision,
        images: job.images,
        decided_by: job.approval?.approvedBy ?? 'policy',
      },
    },
    links: [
      ...(link ? [{ href: link, text: `Rollback job ${job.id}` }] : []),
      ...(/^https?:\/\//.test(job.alert.generatorURL)
        ? [{ href: job.alert.generatorURL, text: 'Alert source' }]
        : []),
    ],
  };
}

export function createPagerDutyNotifier(o: PagerDutyOptions): JobNotifier {
  const log = o.logger.child({ component: 'pagerduty' });
  const count = (outcome: 'sent' | 'failed') =>
    o.metrics.notifications.inc({ channel: 'pagerduty', outcome });
  const queue = new PQueue({ concurrency: 1 });
  const policy = {
    retries: o.retries ?? 3,
    retryBaseMs: o.retryBaseMs ?? 1000,
    maxRetryAfterMs: 60_000,
    sleep: (ms: number) => new Promise<void>((r) => unrefTimer(r, ms)),
  };

  async function attempt(body: string): Promise<Attempt<undefined>> {
    try {
      const res = await (o.fetch ?? fetch)(o.eventsUrl ?? PAGERDUTY_EVENTS_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      });
      await res.arrayBuffer();
      if (res.status === 202 || res.ok) return { ok: true, value: undefined };
      const after = parseRetryAfter(res.headers.get('retry-after'));
      return {
        ok: false,
        status: res.status,
        errorCode: `http_${res.status}`,
        retryable: res.status === 429 || res.status >= 500,
        ...(res.status === 429 && after !== undefined ? { retryAfterMs: after } : {}),
      };
    } catch (err) {
      return { ok: false, retryable: true, errorCode: transportErrorCode(err) };
    }
  }

  return {
    enabled: true,
    job(job, stage) {
      if (stage !== 'finished' && stage !== 'failed') return;
      const event = changeEvent(job, o);
      if (!event) return;
      const body = JSON.stringify(event);
      void queue.add(async () => {
        const r = await withSlackRetries(
          () => attempt(body),
          policy,
          (f, n, delay) =>
            log.info(
              { jobId: job.id, attempt: n, errorCode: f.errorCode, retryInMs: delay },
              'pagerduty change event failed; retrying',
            ),
        );
        count(r.ok ? 'sent' : 'failed');
        if (!r.ok)
          log.warn(
            { jobId: job.id, errorCode: r.errorCode },
            'pagerduty change event not delivered',
          );
      });
    },
    decision: () => undefined,
    async flush(timeoutMs) {
      await idleWithin(queue, timeoutMs);
    },
  };
}
