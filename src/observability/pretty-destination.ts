// LOG_FORMAT=pretty (or a TTY on stdout): the same pino lines, printed for a human instead of a
// log shipper. A destination that rewrites each finished JSON line, so redaction and the secret
// scrub have already run; pino-pretty is not a dependency for this one screen of code.
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const COLORS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[41m' };
const RESET = '\x1b[0m';
/** Fields every line has, shown in the prefix or not at all. */
const SKIP = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'err']);

export function prettyDestination(
  out: DestinationStream,
  o: { color?: boolean } = {},
): DestinationStream {
  const flushable = out as DestinationStream & { flush?: (cb: (err?: Error) => void) => void };
  return {
    write(line: string): void {
      out.write(formatLine(line, o.color ?? false));
    },
    // pino's logger.flush() (on shutdown) reaches the real stream through this.
    ...(flushable.flush ? { flush: (cb: (err?: Error) => void) => flushable.flush?.(cb) } : {}),
  };
}

/** One JSON log line → `12:34:56.789 INFO  message key=value ...` (+ an error's stack). */
export function formatLine(line: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = Number(entry['level']);
  const time = new Date(Number(entry['time'])).toISOString().slice(11, 23);
  const name = LEVELS[level] ?? String(entry['level']);
  const tint = color ? COLORS[level] : undefined;
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
  let text = `${time} ${tint ? `${tint}${name}${RESET}` : name} ${typeof entry['msg'] === 'string' ? entry['msg'] : ''}`;
  if (fields.length) text += `  ${fields.join(' ')}`;
  const err = entry['err'] as { stack?: string; message?: string } | undefined;
  if (err)
    text += `\n    ${(err.stack ?? err.message ?? JSON.stringify(err)).replace(/\n/g, '\n    ')}`;
  return `${text}\n`;
}
