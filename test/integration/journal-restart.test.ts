// Restart cost is bounded (contract.md "Process"): a journal filled to the chart's compaction threshold,
// the way a long run fills it, replays in a controller process started with exactly the heap cap
// the chart derives from its memory limit, and the state it needs comes back. The process runs
// compiled JavaScript, as in the image (tsx's loader would add its own memory to the peak).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firing, payload } from '../support/alerts.js';
import { chartMemory, type ChartMemory } from '../support/chart-memory.js';
import { FILL_CONFIG, fillJournal, type FillResult } from '../support/journal-fill.js';
import { basic, SECRET } from '../support/server.js';
import { compiledEntry } from '../support/compiled-entry.js';

describe('restart with a journal at the compaction threshold, under the chart heap cap', () => {
  let dir: string;
  let chart: ChartMemory;
  let fill: FillResult;
  let lastKey: string;
  let mainJs: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-restart-'));
    mainJs = compiledEntry('main');
    chart = chartMemory();
    fill = await fillJournal(join(dir, 'data'), chart.compactAboveMiB * 1024 * 1024, {
      now: Date.now(),
    });
    const lines = readFileSync(join(dir, 'data', 'journal.jsonl'), 'utf8')
      .trimEnd()
      .split('\n');
    const keyed = lines
      .reverse()
      .map((l) => JSON.parse(l) as { t: string; key?: string })
      .find((r) => r.t === 'decision' && r.key);
    lastKey = String(keyed?.key);
    writeFileSync(
      join(dir, 'config.yaml'),
      `${FILL_CONFIG}\njournal: { compactAboveMiB: ${chart.compactAboveMiB} }\n`,
    );
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('replays within the heap cap, keeps every dedup key, compacts', async () => {
    assert.match(
      chart.nodeFlags.join(' '),
      /^--max-old-space-size=\d+( --max-semi-space-size=\d+)?$/,
      'the chart caps the heap',
    );
    assert.ok(fill.bytes >= chart.compactAboveMiB * 1024 * 1024);
    const output: string[] = [];
    const child = spawn(process.execPath, [...chart.nodeFlags, mainJs], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        HOME: dir,
        KUBECONFIG: join(dir, 'no-cluster'),
        ROLLBACK_WEBHOOK_SECRET: SECRET,
        ROLLBACK_DATA_DIR: join(dir, 'data'),
        ROLLBACK_CONFIG: join(dir, 'config.yaml'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    try {
      // A replay that needs more than the cap dies with "JavaScript heap out of memory".
      const url = await new Promise<string>((ok, fail) => {
        child.stdout.on('data', (d: Buffer) => {
          output.push(d.toString());
          const m = /"url":"(http:[^"]+)","msg":"listening"/.exec(output.join(''));
          if (m?.[1]) ok(m[1]);
        });
        child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
        void exited.then((code) => fail(new Error(`exited ${code}:\n${output.join('')}`)));
      });
      const replayed = output
        .join('')
        .split('\n')
        .find((l) => l.includes('"journal replayed"'));
      assert.ok(replayed, output.join(''));
      const log = JSON.parse(replayed) as { replayed: number; instances: number };
      assert.equal(log.replayed, fill.records, 'every record replayed');
      assert.equal(log.instances, fill.uniqueAlerts, 'every alert instance kept for dedup');
      assert.ok(
        statSync(join(dir, 'data', 'journal.jsonl')).size < fill.bytes / 2,
        'compacted on start',
      );

      // What the container's limit counts: the process's peak resident set.
      const peak = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      const peakMiB = Number(peak?.[1]) / 1024;
      console.log(`restart: peak RSS ${peakMiB.toFixed(1)} MiB, limit ${chart.limitMiB} MiB`);
      assert.ok(peakMiB < chart.limitMiB, `peak RSS ${peakMiB} MiB, limit ${chart.limitMiB} MiB`);

      // The last alert instance before the restart is still known: a re-send is a duplicate.
      const [fingerprint, startsAt] = lastKey.split('@');
      const res = await fetch(`${url}/api/admin/rollback/trigger`, {
        method: 'POST',
        headers: {
          authorization: basic('alertmanager', SECRET),
          'content-type': 'application/json',
        },
        body: JSON.stringify(
          payload([
            firing('HighErrorRate', 'svc-1', {
              fingerprint: String(fingerprint),
              startsAt: String(startsAt),
            }),
          ]),
        ),
      });
      assert.equal(res.status, 202);
      const body = (await res.json()) as { decisions: Array<{ decision: string }> };
      assert.equal(body.decisions[0]?.decision, 'duplicate');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
