// pino JSON logs. Two layers keep secrets out: redaction of the fields that carry them, and a
// final scrub of every configured secret value from each line, whatever field it hid in.
import { pino, type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  secrets?: () => readonly string[];
  destination?: DestinationStream;
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
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
