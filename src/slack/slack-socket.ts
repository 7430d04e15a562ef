// Socket Mode: the app opens a WebSocket to Slack (apps.connections.open with the app-level
// token), so buttons work without exposing any ingress. Only the replica that leads holds the
// connection: a check every `checkEveryMs` connects when this replica leads and disconnects when
// it stops leading, so Slack delivers each click to the one replica that may act. The client
// reconnects by itself when Slack asks (`disconnect`) or the connection drops. Each envelope is
// acknowledged at once (Slack wants it within 3 s), then applied.
import { LogLevel, SocketModeClient } from '@slack/socket-mode';
import type { Logger } from 'pino';
import { quietSlackLogger } from '../notify/slack-web-client.js';
import type { SlackInteractions } from './slack-interactions.js';

export interface SlackSocketOptions {
  appToken: string;
  apiUrl?: string | undefined;
  interactions: SlackInteractions;
  /** True while this replica may act (always, without leader election). */
  leading: () => boolean;
  logger: Logger;
  checkEveryMs?: number;
  /** Ping timeout; also the client's reconnect delay step. */
  clientPingTimeoutMs?: number;
}

export class SlackSocket {
  private client: SocketModeClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly log: Logger;

  constructor(private readonly o: SlackSocketOptions) {
    this.log = o.logger.child({ component: 'slack-socket' });
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.checkEveryMs ?? 1000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.disconnect();
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const leading = this.o.leading();
      if (leading && !this.client) await this.connect();
      else if (!leading && this.client) await this.disconnect();
    } finally {
      this.busy = false;
    }
  }

  private async connect(): Promise<void> {
    const client = new SocketModeClient({
      appToken: this.o.appToken,
      logLevel: LogLevel.ERROR,
      logger: quietSlackLogger(),
      autoReconnectEnabled: true,
      clientPingTimeout: this.o.clientPingTimeoutMs ?? 5000,
      clientOptions: {
        ...(this.o.apiUrl
          ? { slackApiUrl: this.o.apiUrl.endsWith('/') ? this.o.apiUrl : `${this.o.apiUrl}/` }
          : {}),
      },
    });
    client.on('interactive', async ({ ack, body }: { ack: () => Promise<void>; body: unknown }) => {
      try {
        await ack();
      } catch {
        this.log.warn('could not acknowledge a slack envelope');
      }
      await this.o.interactions.handle(body);
    });
    this.client = client;
    try {
      await client.start();
      this.log.info('slack socket mode connected (this replica leads)');
    } catch (err) {
      // Bounded code only: the client's errors can quote Slack's answer.
      const code = (err as { code?: unknown; data?: { error?: unknown } })?.data?.error;
      this.log.warn(
        { errorCode: typeof code === 'string' ? code.slice(0, 60) : 'connect_failed' },
        'slack socket mode could not connect; retrying',
      );
      this.client = undefined;
      await client.disconnect().catch(() => undefined);
    }
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await client.disconnect().catch(() => undefined);
    this.log.info('slack socket mode disconnected (this replica does not lead)');
  }
}
