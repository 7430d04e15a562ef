// The build scripts under test/ (control plane, Argo Rollouts, node, Prometheus) build or find
// their cached output and print its path on the last line: run one and take that path.
import { execFileSync } from 'node:child_process';
import { relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Runs `bash <script>` (a path), its progress on stderr shown; returns its last stdout line. */
export function buildScriptOutput(script: string, what: string): string {
  try {
    const out = execFileSync('bash', [script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return out.trim().split('\n').at(-1)!;
  } catch (e) {
    throw new Error(
      `the ${what} build failed (${(e as Error).message}); run \`bash ${relative(ROOT, script)}\` to see why`,
    );
  }
}
