// Start-up to ready (spawn → first /readyz 200) over several spawns with the default config and
// no cluster, and the resident memory of an idle controller.
import { startController } from './controller-process.js';

export interface StartupResult {
  startupsMs: number[];
  /** RSS after the last controller sat idle for `idleMs`. */
  idleRssBytes: number;
}

export async function measureStartup(
  runs: number,
  idleMs: number,
  nodeFlags: string[] = [],
): Promise<StartupResult> {
  const startupsMs: number[] = [];
  let idleRssBytes = NaN;
  for (let i = 0; i < runs; i++) {
    const c = await startController({ nodeFlags });
    startupsMs.push(c.startupMs);
    if (i === runs - 1) {
      await new Promise((r) => setTimeout(r, idleMs));
      idleRssBytes = c.rss();
    }
    await c.stop();
  }
  return { startupsMs, idleRssBytes };
}
