// pino JSON logs. Two layers keep secrets out: redaction of the fields that carry them, and a
// final scrub of every configured secret value from each line, whatever field it hid in.
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyDestination } from './pretty-destination.js';

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  secrets?: () => readonly string[];
  destination?: DestinationStream;
  /** `pretty`: for humans (LOG_FORMAT=pretty or a TTY); default JSON lines. */
  format?: LogFormat;
  /** Colour the level in pretty output (a TTY). */
  color?: boolean;
}

/** LOG_FORMAT, else pretty on a TTY. An unknown value is an error that says what to set. */
export function logFormatFromEnv(value: string | undefined, isTty: boolean): LogFormat {
  if (value === undefined || value === '') return isTty ? 'pretty' : 'json';
  if (value === 'json' || value === 'pretty') return value;
  throw new Error(`LOG_FORMAT=${value} is not a log format: set it to json or pretty`);
}

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'webhookUrl',
  '*.webhookUrl',
  'err.config',
  'err.request',
  'err.response',
  'config.headers',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = options.secrets ?? (() => []);
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'rollback-controller' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        streamWrite(line: string): string {
          let out = line;
          for (const s of secrets())
            if (s.length >= 4 && out.includes(s)) out = out.split(s).join('[REDACTED]');
          return out;
        },
      },
    },
    options.format === 'pretty'
      ? prettyDestination(destination, { color: options.color ?? false })
      : destination,
  );
}
