// The production executors, built from config. Tests pass their own.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ExecutorName } from '../jobs/job.js';
import type { Executor } from './executor.js';

export function defaultExecutors(
  _config: Config,
  _logger: Logger,
): Partial<Record<ExecutorName, Executor>> {
  return {};
}
