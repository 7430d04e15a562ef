// From the attacker's side: whoever can send an alert chooses its namespace label. Policy globs
// must match it without backtracking, and the label must be a namespace name (DNS-1123, at most
// 63 characters) before any glob sees it, for Kubernetes and script rules alike. Before, a
// star-heavy glob on a valid 63-character namespace kept the event loop busy for tens of seconds
// (`*a*a*a*a*a*a*b`, 45 s on the development machine) and `*-*-prod` on a long raw label for
// 7.8 s; the bound below (1 s) is far above what the fix takes and far below what the bug took.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { globMatches } from '../../src/config/namespace-glob.js';
import { firing, payload } from '../support/alerts.js';
import { probeEventLoop } from '../support/event-loop-probe.js';
import { startTestServer, type TestServer } from '../support/server.js';

const BOUND_MS = 1000;
const CONFIG = `
scriptsDir: ${resolve('test/fixtures/scripts')}
policy:
  allowedNamespaces: ['*a*a*a*a*a*a*b', 'shop']
  deniedNamespaces: ['*-*-prod', 'kube-*']
rules:
  - alert: CheckoutBroken
    trigger: error_rate_threshold
    confidence: high
    script: { path: record.sh, timeoutSeconds: 30 }
  - alert: CriticalErrorRate
    trigger: error_rate_threshold
    confidence: high
`;

describe('namespace globs never backtrack', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ configText: CONFIG });
  });
  after(() => s.close());

  test('a star-heavy glob on a valid 63-character namespace: decided at once', async () => {
    const namespace = 'a'.repeat(63);
    const probe = probeEventLoop();
    const dry = await s.request('POST', 'test', {
      alert_name: 'CriticalErrorRate',
      labels: { severity: 'critical', namespace, deployment: 'api' },
    });
    const trig = await s.request(
      'POST',
      'trigger',
      payload([firing('CheckoutBroken', 'api', { labels: { namespace } })]),
    );
    const lag = probe.stop();
    assert.equal(dry.status, 200);
    assert.equal(dry.body.plans[0].decision, 'invalid_target');
    assert.match(dry.body.plans[0].reason, /is not in policy.allowedNamespaces/);
    assert.equal(trig.body.decisions[0].decision, 'invalid_target');
    assert.ok(lag < BOUND_MS, `the event loop was blocked ${Math.round(lag)} ms`);
  });

  test('a script rule never runs a glob on a label that is no namespace name', async () => {
    for (const namespace of ['-'.repeat(2000) + 'x', 'a-b-prod'.repeat(8), 'Shop', 'shop ']) {
      const probe = probeEventLoop();
      const r = await s.request(
        'POST',
        'trigger',
        payload([firing('CheckoutBroken', 'api', { labels: { namespace } })]),
      );
      const lag = probe.stop();
      assert.equal(r.status, 202);
      assert.equal(r.body.decisions[0].decision, 'invalid_target', namespace.slice(0, 20));
      assert.match(r.body.decisions[0].reason, /is not a valid Kubernetes namespace name/);
      assert.ok(lag < BOUND_MS, `the event loop was blocked ${Math.round(lag)} ms`);
    }
  });

  test('the matcher: `*` is any run, everything else literal', () => {
    const cases: Array<[string, string, boolean]> = [
      ['shop', 'shop', true],
      ['shop', 'shops', false],
      ['team-*', 'team-a', true],
      ['team-*', 'team-', true],
      ['team-*', 'team', false],
      ['*-prod', 'a-prod', true],
      ['*-prod', '-prod', true],
      ['*-prod', 'prod', false],
      ['*-*-prod', 'a-b-prod', true],
      ['*-*-prod', 'a-prod', false],
      ['a*a', 'a', false],
      ['a*a', 'aa', true],
      ['*', '', true],
      ['**', 'x', true],
      ['k*s*m', 'kube-system', true],
      ['*a*a*a*a*a*a*b', 'a'.repeat(63), false],
      ['*a*a*a*a*a*a*b', `${'a'.repeat(62)}b`, true],
    ];
    for (const [glob, name, expected] of cases)
      assert.equal(globMatches(glob, name), expected, `${glob} ~ ${name.slice(0, 20)}`);
  });
});
