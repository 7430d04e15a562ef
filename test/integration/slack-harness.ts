// Shared set-up for the Slack integration tests: a notifier wired to the sink, pino captured
// through a stream, and the notification counter read back.
import { pino } from 'pino';
import type { SlackPayload } from '../support/slack-sink.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import {
  createSlackNotifier,
  type SlackNotifierOptions,
} from '../../src/notify/create-slack-notifier.js';

export function captureLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

export function makeNotifier(overrides: Partial<SlackNotifierOptions> = {}) {
  const metrics = createMetrics({ defaultMetrics: false });
  const { logger, lines } = captureLogger();
  const sent: Array<{ jobId: string; event: string; message: string }> = [];
  const notifier = createSlackNotifier({
    metrics,
    logger,
    retryBaseMs: 20,
    ...overrides,
  });
  notifier.onSent?.((jobId, entry) => sent.push({ jobId, ...entry }));
  return { notifier, metrics, logs: lines, sent };
}

/** `{ sent: 1, failed: 2 }` from rollback_notifications_total{channel="slack"}. */
export async function notificationCounts(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.notifications.get();
  return Object.fromEntries(
    values
      .filter((v) => v.labels.channel === 'slack')
      .map((v) => [String(v.labels.outcome), v.value]),
  );
}

/** Header text of a posted message: which stage it was. */
export function headerOf(body: SlackPayload): string {
  return body.blocks?.[0]?.text?.text ?? '';
}
