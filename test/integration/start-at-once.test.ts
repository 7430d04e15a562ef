// The shortest safe path from an alert to acting: when the queue is idle and the executor pins
// from its own read, the job is recorded already started in its decision's journal batch (one
// durable write before the executor acts, no separate pin read). A busy queue, an executor that
// needs its pin first, and a held job keep the queued path. Read from the journal on disk.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { alert, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const CONFIG = `
rules:
  - { alert: CriticalErrorRate, trigger: error_rate_threshold, confidence: high }
  - { alert: NeedsApproval, trigger: database_error, confidence: medium }
policy:
  allowedNamespaces: ["shop"]
`;

/** The journal's lines, each the records of the batch it was written in order. */
function journal(s: TestServer): Array<Record<string, any>> {
  return readFileSync(join(s.dataDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** The states a job was journaled in, in order. */
const states = (s: TestServer, id: string) =>
  journal(s).flatMap((r) => (r['t'] === 'job' && r['job'].id === id ? [r['job'].state] : []));

const fire = (s: TestServer, name: string, deployment: string) =>
  s.request(
    'POST',
    'trigger',
    payload([alert({ alertname: name, labels: { namespace: 'shop', deployment } })]),
  );

describe('a job that can start at once', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('is journaled started with its decision and never pinned separately', async () => {
    const exec = new RecordingExecutor();
    exec.pinsOnExecute = true;
    const s = await startTestServer({ configText: CONFIG, executors: { kubernetes: exec } });
    servers.push(s);
    const res = await fire(s, 'CriticalErrorRate', 'api');
    assert.equal(res.status, 202);
    const jobId = res.body.decisions[0].jobId as string;
    await until(() => exec.executed().includes(jobId), 60_000);
    const lines = journal(s);
    const decision = lines.findIndex((r) => r['t'] === 'decision' && r['d'].jobId === jobId);
    assert.ok(decision > 0);
    assert.equal(lines[decision - 1]?.['t'], 'job', 'the job record comes with the decision');
    assert.equal(lines[decision - 1]?.['job'].state, 'running');
    assert.equal(states(s, jobId)[0], 'running', 'never journaled as queued on its own');
    assert.deepEqual(
      exec.calls.filter((c) => c.jobId === jobId).map((c) => c.method),
      ['execute'],
      'no pin before executing',
    );
    let job: { state?: string; timeline: Array<{ event: string }> } = { timeline: [] };
    await until(
      async () => (job = (await s.request('GET', `jobs/${jobId}`)).body).state === 'succeeded',
      60_000,
    );
    assert.deepEqual(job.timeline.map((e: { event: string }) => e.event).slice(0, 2), [
      'queued',
      'started',
    ]);
  });

  test('an executor that needs its pin, a busy queue and a held job take the queued path', async () => {
    const exec = new RecordingExecutor(); // pinsOnExecute: false, like the script executor
    let release: () => void = () => undefined;
    exec.gate = new Promise<void>((r) => (release = r));
    const s = await startTestServer({ configText: CONFIG, executors: { kubernetes: exec } });
    servers.push(s);
    const first = (await fire(s, 'CriticalErrorRate', 'api')).body.decisions[0].jobId as string;
    await until(() => exec.executed().includes(first), 60_000);
    assert.deepEqual(states(s, first).slice(0, 2), ['queued', 'queued'], 'queued, then pinned');
    assert.equal(exec.calls.find((c) => c.jobId === first)?.method, 'pin');

    exec.pinsOnExecute = true; // the queue is busy now (one slot, taken by `first`)
    const second = (await fire(s, 'CriticalErrorRate', 'web')).body.decisions[0].jobId as string;
    const held = (await fire(s, 'NeedsApproval', 'cart')).body.decisions[0].jobId as string;
    assert.equal(states(s, second)[0], 'queued');
    assert.equal(states(s, held)[0], 'awaiting_approval');
    release();
    await until(() => exec.executed().includes(second), 60_000);
  });
});
