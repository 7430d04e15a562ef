// The one @slack/web-api client of app mode (messages, ephemeral answers, user-group lookups).
// Retries are ours (Retry-After honoured, metrics counted), so the client's own are off and a
// 429 comes back as an error at once. The client's logger is quiet: our callers log outcomes with
// bounded codes, and nothing the client says may carry the token.
import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';

export function createSlackWebClient(o: {
  token: string;
  /** SLACK_API_URL: tests and proxies; default https://slack.com/api/. */
  apiUrl?: string | undefined;
  timeoutMs: number;
}): WebClient {
  return new WebClient(o.token, {
    ...(o.apiUrl ? { slackApiUrl: o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/` } : {}),
    timeout: o.timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: quietSlackLogger(),
    // Method names only: a method that looks like a URL must not redirect the token elsewhere.
    allowAbsoluteUrls: false,
  });
}

/** Slack's clients log to the console by default; ours say nothing (their text can quote Slack). */
export function quietSlackLogger(): SlackLogger {
  let level = LogLevel.ERROR;
  const none = () => undefined;
  return {
    debug: none,
    info: none,
    warn: none,
    error: none,
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: none,
  };
}
