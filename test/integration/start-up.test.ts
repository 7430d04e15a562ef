// What the controller says about itself (contract.md "Process"): one start-up line with what is on and
// why something is off, the address really bound, no duplicate keys, levels that match the
// outcome, LOG_FORMAT=pretty for humans, and a missing webhook secret said wherever one looks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startServer, StartupError } from '../../src/app.js';
import { firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { basic, OPERATOR_SECRET, SECRET, startTestServer } from '../support/server.js';
import { until } from '../support/until.js';

const NO_CLUSTER = { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent' };

/** Top-level keys of a JSON object line, in order, duplicates kept (JSON.parse drops them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

function listening(logs: string[]): Record<string, any> {
  const line = logs.find((l) => l.includes('"msg":"listening"'));
  assert.ok(line, `no listening line in:\n${logs.join('\n')}`);
  return JSON.parse(line) as Record<string, any>;
}

describe('start-up line and logs', () => {
  test('one line says what is on and why the Kubernetes executor is unavailable', async () => {
    // No operator secret: the line must say what that turns off.
    const s = await startTestServer({ env: { ...NO_CLUSTER, ROLLBACK_OPERATOR_SECRET: '' } });
    try {
      const line = listening(s.logs);
      assert.match(line['executors'].kubernetes, /^unavailable: KUBECONFIG names no existing file/);
      assert.match(line['executors'].script, /^(available|unavailable: .+)$/);
      assert.match(line['rules'], /^7 \(CriticalErrorRate, CriticalP95Latency, /);
      assert.equal(line['slack'], 'disabled: SLACK_WEBHOOK_URL is not set');
      assert.match(line['ha'], /^off/);
      assert.equal(line['dataDir'], s.dataDir);
      assert.match(line['cluster'], /^not set/);
      assert.equal(line['webhookSecret'], 'set');
      assert.equal(line['address'], s.url, 'bound to 127.0.0.1: the address is the URL');
      const status = (await s.request('GET', 'status')).body;
      assert.equal(status.auth.webhookSecret, 'set');
      assert.match(status.auth.operatorSecret, /^not set: approve and resume answer 503/);
      // Pino writes bindings and fields as given: a key bound twice appears twice.
      for (const l of s.logs) {
        const keys = topLevelKeys(l);
        assert.deepEqual(keys, [...new Set(keys)], `duplicate keys in ${l}`);
      }
    } finally {
      await s.close();
    }
  });

  test('"listening" names the address really bound (0.0.0.0), and a URL that reaches it', async () => {
    const s = await startTestServer({ env: NO_CLUSTER, host: '0.0.0.0' });
    try {
      const line = listening(s.logs);
      const port = new URL(s.url).port;
      assert.equal(line['address'], `http://0.0.0.0:${port}`);
      assert.equal(line['url'], `http://127.0.0.1:${port}`);
      assert.equal((await fetch(`${line['url']}/healthz`)).status, 200);
    } finally {
      await s.close();
    }
  });

  test('a failed rollback logs at error, a skipped one at warn, a succeeded one at info', async () => {
    const exec = new RecordingExecutor();
    const s = await startTestServer({
      executors: { kubernetes: exec },
      configText: 'policy: { cooldownSeconds: 0 }',
    });
    try {
      const cases = [
        ['succeeded', 30],
        ['failed', 50],
        ['skipped', 40],
      ] as const;
      for (const [i, [outcome, level]] of cases.entries()) {
        exec.outcome = { outcome, reason: `recording executor: ${outcome}` };
        const res = await s.request(
          'POST',
          'trigger',
          payload([firing('CriticalErrorRate', `svc-${i}`, { fingerprint: `lv${i}` })]),
        );
        const jobId = String(res.body.decisions[0].jobId);
        await until(
          () => s.logs.some((l) => l.includes(jobId) && l.includes('"job finished"')),
          10_000,
          `job ${jobId} finished`,
        );
        const line = JSON.parse(
          s.logs.find((l) => l.includes(jobId) && l.includes('"job finished"')) ?? '{}',
        ) as { level: number; outcome: string };
        assert.equal(line.outcome, outcome);
        assert.equal(line.level, level, `${outcome} logs at level ${level}`);
      }
    } finally {
      await s.close();
    }
  });

  test('LOG_FORMAT=pretty prints for humans, still without secrets', async () => {
    const s = await startTestServer({ env: { ...NO_CLUSTER, LOG_FORMAT: 'pretty' } });
    try {
      await s.request(
        'POST',
        'test',
        { alert_name: 'CriticalErrorRate' },
        {
          authorization: `Bearer ${SECRET}`,
        },
      );
      const text = s.logs.join('\n');
      assert.match(
        text,
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening {2}.*address=http:\/\/127\.0\.0\.1:\d+/m,
      );
      assert.match(text, /^\d\d:\d\d:\d\d\.\d{3} WARN {2}|^\d\d:\d\d:\d\d\.\d{3} INFO /m);
      assert.ok(!s.logs.some((l) => l.startsWith('{')), 'no JSON lines');
      assert.ok(!text.includes(SECRET), 'the secret is scrubbed before printing');
    } finally {
      await s.close();
    }
  });

  test('an unknown LOG_FORMAT refuses to start and says what to set', async () => {
    await assert.rejects(
      startServer({ port: 0, host: '127.0.0.1', env: { LOG_FORMAT: 'xml', ...NO_CLUSTER } }),
      (e: Error) =>
        e instanceof StartupError && /LOG_FORMAT=xml .*set it to json or pretty/.test(e.message),
    );
  });
});

describe('no webhook secret', () => {
  test('the start-up line, /readyz and /status say so; protected routes answer 503', async () => {
    const s = await startTestServer({
      env: {
        ...NO_CLUSTER,
        ROLLBACK_WEBHOOK_SECRET: '',
        ROLLBACK_OPERATOR_USER: 'operator',
        ROLLBACK_OPERATOR_SECRET: OPERATOR_SECRET,
      },
    });
    try {
      const line = listening(s.logs);
      assert.match(
        line['webhookSecret'],
        /^not set: protected routes answer 503; set ROLLBACK_WEBHOOK_SECRET/,
      );
      assert.ok(
        s.logs.some(
          (l) => l.includes('"level":40') && l.includes('ROLLBACK_WEBHOOK_SECRET is not set'),
        ),
      );
      const ready = (await (await fetch(`${s.url}/readyz`)).json()) as {
        checks: Record<string, string>;
      };
      assert.match(ready.checks['webhookSecret'] ?? '', /^not set: protected routes answer 503/);
      const trigger = await s.request(
        'POST',
        'trigger',
        payload([firing('CriticalErrorRate', 'api')]),
      );
      assert.equal(trigger.status, 503);
      const status = await s.request('GET', 'status', undefined, {
        authorization: basic('operator', OPERATOR_SECRET),
      });
      // /status is a protected route too: its 503 is where it says so.
      assert.equal(status.status, 503);
      assert.match(
        status.body.error,
        /ROLLBACK_WEBHOOK_SECRET is not set: set it or ROLLBACK_WEBHOOK_SECRET_FILE/,
      );
    } finally {
      await s.close();
    }
  });
});
