// Which Slack the controller talks to, from the environment: app mode with a bot token
// (SLACK_BOT_TOKEN + SLACK_CHANNEL, @slack/web-api), else webhook mode (SLACK_WEBHOOK_URL), else
// none. Secrets are read here once and returned so the logger can redact them.
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { readSecret } from '../config/read-secret.js';
import type { Config } from '../config/schema.js';
import type { JobNotifier } from '../model/job-notifier.js';
import type { Metrics } from '../observability/metrics.js';
import { createPagerDutyNotifier } from './create-pagerduty-notifier.js';
import { createSlackAppNotifier } from './create-slack-app-notifier.js';
import { fanOutNotifier } from './fan-out-notifier.js';
import { createSlackNotifier } from './create-slack-notifier.js';
import { createSlackWebClient } from './slack-web-client.js';

export interface SlackSettings {
  mode: 'app' | 'webhook' | 'off';
  webhookUrl?: string;
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  channel?: string;
  apiUrl?: string;
  /** ROLLBACK_EXTERNAL_URL: links in messages and the approve command. */
  externalUrl?: string;
  /** PAGERDUTY_ROUTING_KEY: change events for finished rollbacks (optional). */
  pagerDutyKey?: string;
  pagerDutyUrl?: string;
}

/** Reads the settings; throws with how to fix a half-done configuration. */
export function slackSettings(env: Record<string, string | undefined>): SlackSettings {
  const botToken = readSecret('SLACK_BOT_TOKEN', { env });
  const webhookUrl = readSecret('SLACK_WEBHOOK_URL', { env });
  const appToken = readSecret('SLACK_APP_TOKEN', { env });
  const signingSecret = readSecret('SLACK_SIGNING_SECRET', { env });
  const channel = env['SLACK_CHANNEL'] || undefined;
  const pagerDutyKey = readSecret('PAGERDUTY_ROUTING_KEY', { env });
  if (botToken && !channel)
    throw new Error(
      'SLACK_BOT_TOKEN is set but SLACK_CHANNEL is not: set SLACK_CHANNEL to the id of the channel to post in (C…, from the channel details in Slack)',
    );
  if ((appToken || signingSecret) && !botToken)
    throw new Error(
      `${appToken ? 'SLACK_APP_TOKEN' : 'SLACK_SIGNING_SECRET'} is set but SLACK_BOT_TOKEN is not: buttons need app mode (set SLACK_BOT_TOKEN and SLACK_CHANNEL)`,
    );
  const optional = {
    ...(appToken ? { appToken } : {}),
    ...(signingSecret ? { signingSecret } : {}),
    ...(env['SLACK_API_URL'] ? { apiUrl: env['SLACK_API_URL'] } : {}),
    ...(env['ROLLBACK_EXTERNAL_URL'] ? { externalUrl: env['ROLLBACK_EXTERNAL_URL'] } : {}),
    ...(pagerDutyKey ? { pagerDutyKey } : {}),
    ...(env['PAGERDUTY_EVENTS_URL'] ? { pagerDutyUrl: env['PAGERDUTY_EVENTS_URL'] } : {}),
  };
  if (botToken && channel) return { mode: 'app', botToken, channel, ...optional };
  if (webhookUrl) return { mode: 'webhook', webhookUrl, ...optional };
  return { mode: 'off', ...optional };
}

export function slackSecrets(s: SlackSettings): string[] {
  return [s.webhookUrl, s.botToken, s.appToken, s.signingSecret, s.pagerDutyKey].filter(
    (v): v is string => !!v,
  );
}

export function createNotifierFromSettings(
  s: SlackSettings,
  o: {
    config: Config;
    metrics: Metrics;
    logger: Logger;
    kube?: { server: string; context: string } | undefined;
  },
): { notifier: JobNotifier; client?: WebClient } {
  const slack = createSlack(s, o);
  if (!s.pagerDutyKey) return slack;
  const pagerDuty = createPagerDutyNotifier({
    routingKey: s.pagerDutyKey,
    eventsUrl: s.pagerDutyUrl,
    cluster: o.config.cluster.name,
    externalUrl: s.externalUrl,
    metrics: o.metrics,
    logger: o.logger,
  });
  return { ...slack, notifier: fanOutNotifier(slack.notifier, pagerDuty) };
}

function createSlack(
  s: SlackSettings,
  o: {
    config: Config;
    metrics: Metrics;
    logger: Logger;
    kube?: { server: string; context: string } | undefined;
  },
): { notifier: JobNotifier; client?: WebClient } {
  const { slack, cluster } = o.config;
  const ctx = {
    ...(s.externalUrl ? { baseUrl: s.externalUrl } : {}),
    ...(cluster.name ? { cluster: cluster.name } : {}),
    ...(o.kube ? { kube: o.kube } : {}),
  };
  const common = {
    namespaceChannels: slack.namespaceChannels,
    progressIntervalMs: slack.progressIntervalSeconds * 1000,
    retries: slack.retries,
    metrics: o.metrics,
    logger: o.logger,
  };
  if (s.mode === 'app' && s.botToken && s.channel) {
    const client = createSlackWebClient({
      token: s.botToken,
      apiUrl: s.apiUrl,
      timeoutMs: slack.timeoutSeconds * 1000,
    });
    const notifier = createSlackAppNotifier({ ...common, client, channel: s.channel, ctx });
    return { notifier, client };
  }
  return {
    notifier: createSlackNotifier({
      ...common,
      webhookUrl: s.webhookUrl,
      channel: slack.channel,
      username: slack.username,
      iconEmoji: slack.iconEmoji,
      timeoutMs: slack.timeoutSeconds * 1000,
      ...(s.externalUrl ? { baseUrl: s.externalUrl } : {}),
      cluster: cluster.name,
      kube: o.kube,
    }),
  };
}
