// The script executor (contract.md "Scripts"): runs a rule's script from the scripts directory with an
// argument array, alert data as environment variables plus a JSON file, a timeout that ends in
// SIGKILL for the whole process group, and the exit code, duration and output tail on the job.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Job } from '../../model/job.js';
import type {
  Availability,
  ExecutionContext,
  ExecutionResult,
  Executor,
  Plan,
  ScriptResult,
} from '../../model/executor.js';
import { buildAlertDocument, serializeAlertDocument } from './build-alert-document.js';
import { buildScriptEnv } from './build-script-env.js';
import { resolveScriptPath, type ScriptFs, nodeScriptFs } from './resolve-script-path.js';
import { runScript } from './run-script.js';
import { scriptBaseEnv } from './script-base-env.js';
import { writeAlertFile } from './write-alert-file.js';
import { jobLogBindings } from '../../observability/job-log-bindings.js';

/** The subset of a pino logger this uses. */
export interface ScriptLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ScriptExecutorOptions {
  /** Absolute or relative to the working directory. Default `rollback-scripts`. */
  scriptsDir?: string;
  /** Where each run's private directory (alert file, working directory) is created. */
  tmpDir?: string;
  /** SIGTERM → SIGKILL delay. Default 5000. */
  killGraceMs?: number;
  /** Bytes of combined stdout+stderr kept on the job. Default 4096. */
  outputTailBytes?: number;
  /** Base environment (default process.env); secrets and ROLLBACK_* are always removed. */
  env?: NodeJS.ProcessEnv;
  /** Run every script with ROLLBACK_DRY_RUN=true (rehearsal: scripts print and change nothing). */
  dryRun?: boolean;
  clock?: { now(): number };
  logger?: ScriptLogger;
  /** For tests of path validation. */
  fs?: ScriptFs;
}

export const RECOVER_REASON =
  'interrupted by a restart while the script was running; not re-run automatically (scripts may not be idempotent)';

const silentLogger: ScriptLogger = { info: () => undefined, warn: () => undefined };

/** Seconds as the user wrote them: 1 → "1s", 0.5 → "0.5s". */
const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))}s`;

/** A readable command line for plans and logs; never executed. */
const displayArg = (arg: string): string =>
  /^[\w./=:@%+,-]+$/.test(arg) ? arg : JSON.stringify(arg);

export function createScriptExecutor(options: ScriptExecutorOptions = {}): Executor {
  const scriptsDir = resolve(options.scriptsDir ?? 'rollback-scripts');
  const killGraceMs = options.killGraceMs ?? 5000;
  const outputTailBytes = options.outputTailBytes ?? 4096;
  const dryRun = options.dryRun ?? false;
  const clock = options.clock ?? { now: () => Date.now() };
  const logger = options.logger ?? silentLogger;
  const fs = options.fs ?? nodeScriptFs;
  const baseEnv = (): Record<string, string> => scriptBaseEnv(options.env ?? process.env);

  async function availability(): Promise<Availability> {
    try {
      const info = await stat(scriptsDir);
      if (!info.isDirectory())
        return { available: false, reason: `${scriptsDir} is not a directory` };
      await access(scriptsDir, constants.R_OK | constants.X_OK);
      return { available: true };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return {
        available: false,
        reason: `scripts directory ${scriptsDir} is not readable (${code})`,
      };
    }
  }

  async function plan(job: Job): Promise<Plan> {
    if (!job.script) return { action: 'skip', reason: 'the job has no script' };
    const checked = await resolveScriptPath(scriptsDir, job.script.path, fs);
    if (!checked.ok) {
      const action =
        checked.problem === 'outside' || checked.problem === 'invalid' ? 'skip' : 'unavailable';
      return { action, reason: checked.reason };
    }
    const { env } = buildScriptEnv(job, { baseEnv: {}, alertFile: '(alert file)', dryRun });
    const command = [checked.path, ...job.script.args].map(displayArg).join(' ');
    // Counted: the ROLLBACK_* contract variables; the rest is the controller's base environment.
    return {
      action: 'run_script',
      reason: `would run ${command} with ${Object.keys(env).length} env vars`,
    };
  }

  async function execute(job: Job, ctx: ExecutionContext): Promise<ExecutionResult> {
    if (!job.script) return { outcome: 'failed', reason: 'the job has no script' };
    const { path: requested, args, timeoutSeconds } = job.script;
    const checked = await resolveScriptPath(scriptsDir, requested, fs);
    if (!checked.ok) return { outcome: 'failed', reason: `${checked.reason}; nothing was run` };
    if (ctx.signal.aborted) {
      return { outcome: 'skipped', reason: 'cancelled before the script started' };
    }
    // The job's rollout timeout counts from now, when the script starts.
    const timeoutMs = Math.min(timeoutSeconds * 1000, ctx.rolloutTimeoutMs);
    if (timeoutMs <= 0) {
      return { outcome: 'failed', reason: 'the job deadline passed before the script started' };
    }

    let alertFile;
    try {
      alertFile = await writeAlertFile(
        serializeAlertDocument(buildAlertDocument(job, dryRun)),
        options.tmpDir,
      );
    } catch (err) {
      return {
        outcome: 'failed',
        reason: `could not write the alert file: ${(err as Error).message}`,
      };
    }
    try {
      const { env, dropped } = buildScriptEnv(job, {
        baseEnv: baseEnv(),
        alertFile: alertFile.path,
        dryRun,
      });
      for (const d of dropped) {
        logger.warn(
          { ...jobLogBindings(job), label: d.label },
          `label not passed as env var: ${d.reason}`,
        );
      }
      let actedAt: string | undefined;
      let updated: Promise<void> = Promise.resolve();

      const run = await runScript({
        file: checked.path,
        args,
        env,
        cwd: alertFile.dir,
        timeoutMs,
        killGraceMs,
        outputTailBytes,
        signal: ctx.signal,
        now: () => clock.now(),
        onStart({ pid, startedAt }) {
          actedAt = new Date(startedAt).toISOString();
          updated = ctx.update({ actedAt }).catch((err: unknown) => {
            logger.warn({ ...jobLogBindings(job), err }, 'could not record actedAt');
          });
          logger.info({ ...jobLogBindings(job), pid, script: checked.path }, 'script started');
          ctx.progress({
            event: 'script_started',
            message: `running ${[requested, ...args].map(displayArg).join(' ')}`,
            data: { path: checked.path, args, pid, timeoutMs, dryRun },
          });
        },
        onOutput(line) {
          ctx.progress({ event: 'script_output', message: line.slice(0, 500) });
        },
        onTerminate({ cause, signal }) {
          const why = cause === 'timeout' ? `timed out after ${seconds(timeoutMs)}` : 'cancelled';
          ctx.progress({
            event: 'script_terminating',
            message: `script ${why}: sending ${signal} to its process group`,
            data: { cause, signal },
          });
        },
      }).catch((err: unknown) => ({
        started: false as const,
        error: err instanceof Error ? err.message : String(err),
      }));
      await updated;

      if (!run.started)
        return { outcome: 'failed', reason: `could not start script: ${run.error}` };

      const scriptResult: ScriptResult = {
        exitCode: run.exitCode,
        signal: run.signal,
        durationMs: run.durationMs,
        timedOut: run.terminatedBy === 'timeout',
        outputTail: run.outputTail,
      };
      const fields = { ...(actedAt !== undefined ? { actedAt } : {}), scriptResult };
      const signals = run.escalated ? 'SIGTERM, then SIGKILL' : 'SIGTERM';
      logger.info(
        { ...jobLogBindings(job), ...scriptResult, outputTail: undefined },
        'script finished',
      );

      if (run.terminatedBy === 'timeout') {
        return {
          outcome: 'failed',
          reason: `script timed out after ${seconds(timeoutMs)} (${signals})`,
          fields,
        };
      }
      if (run.terminatedBy === 'abort') {
        return { outcome: 'failed', reason: `script was cancelled (${signals})`, fields };
      }
      if (run.exitCode === 0)
        return { outcome: 'succeeded', reason: 'script exited with code 0', fields };
      if (run.exitCode !== null) {
        return { outcome: 'failed', reason: `script exited with code ${run.exitCode}`, fields };
      }
      return {
        outcome: 'failed',
        reason: `script was killed by ${run.signal ?? 'a signal'}`,
        fields,
      };
    } finally {
      await alertFile.remove().catch((err: unknown) => {
        logger.warn(
          { ...jobLogBindings(job), err, dir: alertFile.dir },
          'could not remove the alert file',
        );
      });
    }
  }

  async function recover(): Promise<ExecutionResult> {
    return { outcome: 'failed', reason: RECOVER_REASON };
  }

  return { name: 'script', availability, plan, execute, recover };
}
