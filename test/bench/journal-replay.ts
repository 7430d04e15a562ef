// Restart cost: fill a journal to the chart's compaction threshold the way a long run does, then
// start the compiled controller on it with the chart's heap cap and measure spawn → ready and
// peak RSS against the chart's memory limit.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartMemory } from '../support/chart-memory.js';
import { FILL_CONFIG, fillJournal, type FillResult } from '../support/journal-fill.js';
import { startController } from './controller-process.js';

export interface ReplayResult {
  fill: FillResult;
  limitMiB: number;
  nodeFlags: string[];
  compactAboveMiB: number;
  startupMs: number;
  peakRssBytes: number;
  /** The journal after the restart compacted it. */
  compactedBytes: number;
  replayLog: string;
}

export async function measureReplay(extraFlags: string[] = []): Promise<ReplayResult> {
  const chart = chartMemory();
  const dir = mkdtempSync(join(tmpdir(), 'rc-replay-'));
  try {
    const fill = await fillJournal(dir, chart.compactAboveMiB * 1024 * 1024, { now: Date.now() });
    const controller = await startController({
      dataDir: dir,
      config: `${FILL_CONFIG}\njournal: { compactAboveMiB: ${chart.compactAboveMiB} }\n`,
      nodeFlags: [...chart.nodeFlags, ...extraFlags],
      readyTimeoutMs: 120_000,
    });
    const peakRssBytes = controller.peakRss();
    // Its log up to the replay: the first line and the "journal replayed" one carry the times.
    const lines = controller.log().split('\n');
    const end = lines.findIndex((l) => l.includes('"journal replayed"'));
    const replayLog = end >= 0 ? [lines[0], lines[end]].join('\n') : '';
    const compactedBytes = statSync(join(dir, 'journal.jsonl')).size;
    await controller.stop();
    return {
      fill,
      limitMiB: chart.limitMiB,
      nodeFlags: chart.nodeFlags,
      compactAboveMiB: chart.compactAboveMiB,
      startupMs: controller.startupMs,
      peakRssBytes,
      compactedBytes,
      replayLog,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
