// Composition root: reads env and config, creates every part and passes dependencies in.
// The environment comes in as `env` (default process.env) and is passed down: below this file,
// process.env is read only as the default of an `env` option.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import type { DestinationStream, Logger } from 'pino';
import { formatProblems, parseConfigText, type ConfigResult } from './config/load-config.js';
import { readSecret } from './config/read-secret.js';
import { RollbackController } from './controller.js';
import { defaultExecutors } from './executors/default-executors.js';
import { workloadOptOutCheck } from './executors/workload-opt-out-check.js';
import { highAvailabilityFromEnv } from './ha/high-availability-from-env.js';
import type { Executor } from './model/executor.js';
import { createAuth, type Credentials } from './http/auth.js';
import { authSummary } from './http/auth-summary.js';
import { createHttpApp } from './http/create-http-app.js';
import { lockDataDir } from './jobs/data-dir-lock.js';
import type { ExecutorName } from './model/job.js';
import type { JobNotifier } from './model/job-notifier.js';
import {
  createNotifierFromSettings,
  slackSecrets,
  slackSettings,
  type SlackSettings,
} from './notify/slack-from-env.js';
import type { SetTimer } from './jobs/job-timers.js';
import type { JournalFs } from './jobs/journal.js';
import { connectKube, type KubeAccess } from './kube/connect-kube.js';
import { PermissionCheck } from './kube/permission-check.js';
import { requiredPermissions } from './kube/required-permissions.js';
import { readHaSettings } from './ha/ha-settings.js';
import { createLogger, logFormatFromEnv, type LogFormat } from './observability/logger.js';
import { startupSummary } from './observability/startup-summary.js';
import { slackInteractionsFromSettings } from './slack/slack-inputs.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { defined } from './model/defined.js';

export interface AppOptions {
  env?: Record<string, string | undefined>;
  /** Config text (YAML); default: the file named by ROLLBACK_CONFIG, else built-in defaults. */
  configText?: string;
  executors?: Partial<Record<ExecutorName, Executor>>;
  notifier?: (o: {
    metrics: Metrics;
    logger: Logger;
    config: Extract<ConfigResult, { ok: true }>['config'];
    slackWebhookUrl: string | undefined;
  }) => JobNotifier;
  logDestination?: DestinationStream;
  now?: () => number;
  /** Approval expiry and verification timers (tests fire them by hand). */
  setTimer?: SetTimer;
  newId?: () => string;
  journalFs?: JournalFs;
  fsync?: boolean;
  shutdownGraceMs?: number;
  /** Default: the kubeconfig found from `env` (in-cluster, KUBECONFIG, ~/.kube/config). */
  kube?: KubeAccess;
}

export interface App {
  http: Express;
  /** What the start-up line reports besides the address (see startupSummary). */
  startup: () => Promise<Record<string, unknown>>;
  controller: RollbackController;
  metrics: Metrics;
  logger: Logger;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override name = 'StartupError';
}

export function loadConfigFromEnv(
  env: Record<string, string | undefined>,
  configText?: string,
): Extract<ConfigResult, { ok: true }> {
  const path = env['ROLLBACK_CONFIG'];
  let text = configText;
  if (text === undefined && path) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new StartupError(
        `ROLLBACK_CONFIG=${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  }
  const result = parseConfigText(text ?? '', env);
  if (!result.ok)
    throw new StartupError(
      `invalid config${path ? ` ${path}` : ''}:\n${formatProblems(result.problems)}`,
    );
  return result;
}

export async function buildApp(o: AppOptions = {}): Promise<App> {
  const env = o.env ?? process.env;
  const { config, rules } = loadConfigFromEnv(env, o.configText);
  let credentials: Credentials;
  let slackWebhookUrl: string | undefined;
  let slack: SlackSettings;
  try {
    credentials = {
      webhookUser: env['ROLLBACK_WEBHOOK_USER'] || 'alertmanager',
      webhookSecret: readSecret('ROLLBACK_WEBHOOK_SECRET', { env }),
      operatorUser: env['ROLLBACK_OPERATOR_USER'] || undefined,
      operatorSecret: readSecret('ROLLBACK_OPERATOR_SECRET', { env }),
    };
    slack = slackSettings(env);
    slackWebhookUrl = slack.webhookUrl;
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const secrets = [
    credentials.webhookSecret,
    credentials.operatorSecret,
    ...slackSecrets(slack),
  ].filter((s): s is string => !!s);
  let logFormat: LogFormat;
  try {
    logFormat = logFormatFromEnv(
      env['LOG_FORMAT'],
      !o.logDestination && process.stdout.isTTY === true,
    );
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const logger = createLogger({
    level: env['LOG_LEVEL'] ?? 'info',
    secrets: () => secrets,
    format: logFormat,
    color: !o.logDestination && process.stdout.isTTY === true,
    ...(o.logDestination ? { destination: o.logDestination } : {}),
  });
  const metrics = createMetrics();
  // The kubeconfig is loaded once and its one client (one keep-alive connection) is shared by
  // the executors, high availability and the script opt-out check.
  const kube = o.kube ?? connectKube({ env });
  // High availability (ROLLBACK_LEADER_ELECTION=true): src/ha/high-availability.ts. Forwards are
  // accepted only when signed for this replica's process (forward-signature.ts).
  let ha: ReturnType<typeof highAvailabilityFromEnv>;
  const auth = createAuth(credentials, {
    addressee: () => (ha ? { identity: ha.identity, epoch: ha.epoch } : undefined),
  });
  try {
    ha = highAvailabilityFromEnv(env, {
      config,
      rules,
      kube,
      logger,
      ...defined({ key: auth.key, now: o.now }),
    });
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const dataDir = resolve(env['ROLLBACK_DATA_DIR'] || 'data');
  let unlock: () => void;
  try {
    unlock = lockDataDir(dataDir);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  // Which cluster this process patches (API server, context), named wherever it acts or reports.
  const kubeTarget = 'target' in kube ? kube.target : undefined;
  const permissions = permissionCheck(kube, env, config, metrics, logger);
  const slackParts = o.notifier
    ? { notifier: o.notifier({ metrics, logger, config, slackWebhookUrl }) }
    : createNotifierFromSettings(slack, { config, metrics, logger, kube: kubeTarget });
  const notifier = slackParts.notifier;
  const executors = o.executors ?? defaultExecutors(config, logger, env, kube);
  // Checked in this order before any job acts (jobs/job-runner.ts).
  const checks = [
    workloadOptOutCheck(kube, config.policy.optOutAnnotation),
    ...(ha ? ha.preActChecks() : []),
  ];
  const controller = new RollbackController({
    config,
    rules,
    dataDir,
    executors,
    checks,
    ...defined({ kubeTarget }),
    permissions,
    notifier,
    metrics,
    logger,
    ...defined({
      now: o.now,
      setTimer: o.setTimer,
      newId: o.newId,
      journalFs: o.journalFs,
      fsync: o.fsync,
      shutdownGraceMs: o.shutdownGraceMs,
      leadership: ha,
    }),
    ...(env['npm_package_version'] ? { version: env['npm_package_version'] } : {}),
  });
  ha?.attach(controller);
  try {
    await controller.open();
  } catch (err) {
    unlock();
    throw err;
  }
  ha?.start();
  void permissions.check();
  permissions.start();
  if (!credentials.webhookSecret) {
    logger.warn(
      'ROLLBACK_WEBHOOK_SECRET is not set: protected routes answer 503 until it is (set it or ROLLBACK_WEBHOOK_SECRET_FILE)',
    );
  } else if (!credentials.operatorSecret) {
    logger.warn(
      'ROLLBACK_OPERATOR_SECRET is not set: approve and resume answer 503 until it is (set it or ROLLBACK_OPERATOR_SECRET_FILE); pause works with either credential',
    );
  }
  const startup = async () => {
    const haStatus = ha?.status();
    await permissions.check();
    return startupSummary({
      executors: await controller.executorStatus(),
      rules,
      slackEnabled: notifier.enabled,
      ha: haStatus ? { lease: String(haStatus['lease']), identity: ha?.identity ?? '' } : undefined,
      dataDir,
      clusterName: controller.clusterName,
      kube: kubeTarget,
      permissions: permissions.summary,
      auth: authSummary(credentials),
      logFormat,
    });
  };
  const slackInputs = slackInteractionsFromSettings(slack, {
    client: slackParts.client,
    controller,
    approvers: config.slack.approvers,
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    ...(ha ? { leadership: ha } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  slackInputs.socket?.start();
  const http = createHttpApp({
    controller,
    auth,
    authSummary: () => authSummary(credentials),
    metrics,
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    ...(ha ? { leadership: ha } : {}),
    ...(slackInputs.routes ? { slackRoutes: slackInputs.routes } : {}),
  });
  return {
    http,
    startup,
    controller,
    metrics,
    logger,
    close: async () => {
      await slackInputs.socket?.close();
      permissions.stop();
      await controller.close();
      await ha?.close();
      if ('client' in kube) kube.client.close();
      unlock();
    },
  };
}

/** Access reviews for what the enabled features need, over the process's Kubernetes config. */
function permissionCheck(
  kube: KubeAccess,
  env: Record<string, string | undefined>,
  config: Extract<ConfigResult, { ok: true }>['config'],
  metrics: Metrics,
  logger: Logger,
): PermissionCheck {
  const client = 'client' in kube ? kube.client : undefined;
  const ha = readHaSettings(env);
  const lease =
    ha.enabled && 'settings' in ha
      ? { namespace: ha.settings.leaseNamespace, name: ha.settings.leaseName }
      : undefined;
  return new PermissionCheck({
    review: client ? (a) => client.reviewAccess(a) : undefined,
    ...('reason' in kube ? { unavailableReason: kube.reason } : {}),
    required: async () =>
      requiredPermissions({
        policy: config.policy,
        ...(lease ? { lease } : {}),
        // Re-asked at every check: Argo Rollouts may be installed (or removed) later.
        argoRollouts: client
          ? await client.servesResource('argoproj.io', 'v1alpha1', 'rollouts')
          : false,
      }),
    metrics,
    logger: logger.child({ component: 'permissions' }),
    intervalMs: config.permissions.checkIntervalSeconds * 1000,
  });
}

export interface RunningServer {
  app: App;
  server: Server;
  url: string;
  /** Graceful stop: no new connections, running job finished or handed back, journal flushed. */
  close(): Promise<void>;
}

export async function startServer(
  o: AppOptions & { port?: number; host?: string } = {},
): Promise<RunningServer> {
  const app = await buildApp(o);
  const server = createServer({ keepAliveTimeout: 65_000 }, app.http);
  // Alertmanager's default webhook timeout is long; keep requests bounded on our side too.
  server.requestTimeout = 30_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 8080, o.host ?? '0.0.0.0', () => ok());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  // `address` is what the socket is bound to; `url` is how this machine reaches it.
  const address = `http://${host}:${addr.port}`;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${addr.port}`;
  const summary = await app.startup();
  app.logger.info({ ...summary, address, url }, 'listening');
  let closing: Promise<void> | undefined;
  return {
    app,
    server,
    url,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((ok) => server.close(() => ok()));
        server.closeIdleConnections();
        await app.close();
        server.closeAllConnections();
        await closed;
      })()),
  };
}
