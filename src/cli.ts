#!/usr/bin/env node
// `rollback-controller check-config FILE`: validates a config like `amtool check-config`, listing
// every problem by path. `rollback-controller` with no command starts the server.
import { readFileSync } from 'node:fs';
import { formatProblems, parseConfigText } from './config/load-config.js';

export function checkConfig(
  file: string,
  env: Record<string, string | undefined>,
  out: (s: string) => void,
): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    out(
      `Checking '${file}'  FAILED: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`,
    );
    return 1;
  }
  const result = parseConfigText(text, env);
  if (!result.ok) {
    out(
      `Checking '${file}'  FAILED: ${result.problems.length} problem(s)\n${formatProblems(result.problems)}\n`,
    );
    return 1;
  }
  const { rules, config } = result;
  out(
    `Checking '${file}'  SUCCESS\nFound:\n - ${rules.length} rules (${rules.map((r) => r.alert).join(', ')})\n - auto-rollback at ${config.policy.autoRollbackConfidence} confidence, approval at ${config.policy.approvalConfidence}\n`,
  );
  // Compiled rules and matchers keep the config's order and indices when the config is valid.
  const warnings = rules.flatMap((r, i) =>
    r.matchers.flatMap((m, j) => (m.warning ? [`  rules.${i}.matchers.${j}: ${m.warning}`] : [])),
  );
  if (warnings.length) out(`Warnings:\n${warnings.join('\n')}\n`);
  return 0;
}

const [command, ...args] = process.argv.slice(2);
if (command === 'check-config') {
  if (args.length === 0) {
    process.stderr.write('usage: rollback-controller check-config FILE [FILE...]\n');
    process.exit(2);
  }
  let code = 0;
  for (const file of args)
    code = Math.max(
      code,
      checkConfig(file, process.env, (s) => process.stdout.write(s)),
    );
  process.exit(code);
} else if (command === undefined || command === 'serve') {
  await import('./main.js');
} else if (command === '--help' || command === 'help') {
  process.stdout.write('usage: rollback-controller [serve] | check-config FILE...\n');
} else {
  process.stderr.write(
    `unknown command ${JSON.stringify(command)}; usage: rollback-controller [serve] | check-config FILE...\n`,
  );
  process.exit(2);
}
