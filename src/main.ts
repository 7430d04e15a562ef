#!/usr/bin/env node
// The only impure entry: env → app → listen; SIGTERM/SIGINT → graceful stop, exit 0.
import { startServer, StartupError } from './app.js';

async function main(): Promise<void> {
  const env = process.env;
  let running;
  try {
    running = await startServer({
      env,
      port: Number(env['PORT'] ?? 8080),
      host: env['HOST'] ?? '0.0.0.0',
    });
  } catch (err) {
    const message =
      err instanceof StartupError ? err.message : ((err as Error).stack ?? String(err));
    process.stderr.write(`rollback-controller: cannot start: ${message}\n`);
    process.exit(1);
  }
  const { app } = running;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info(
      { signal },
      'shutting down: not accepting new requests, finishing the running job',
    );
    running
      .close()
      .then(() => {
        app.logger.info('stopped cleanly');
        app.logger.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        app.logger.error({ err }, 'unclean shutdown');
        app.logger.flush();
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
