// The controller's own environment minus what a script must never see. Secrets are dropped by
// prefix so `*_FILE` variants go too; every other ROLLBACK_* name is dropped because that
// namespace belongs to the script contract (a stray ROLLBACK_LABEL_X from the parent would read
// as an alert label).
const SECRET_PREFIXES = [
  'ROLLBACK_WEBHOOK_SECRET',
  'ROLLBACK_OPERATOR_SECRET',
  'SLACK_WEBHOOK_URL',
];
const RESERVED_PREFIX = 'ROLLBACK_';

export function scriptBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    // Linux names are case-sensitive, but a lower-case copy of a secret is still a secret.
    const upper = name.toUpperCase();
    if (upper.startsWith(RESERVED_PREFIX)) continue;
    if (SECRET_PREFIXES.some((prefix) => upper.startsWith(prefix))) continue;
    out[name] = value;
  }
  return out;
}
