import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertSchema } from '../../src/alerts/payload-schema.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { decideAlert, type PolicyView } from '../../src/decide/decide-alert.js';
import type { DecisionKind } from '../../src/model/decision.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');

function setup(yaml = '') {
  const r = parseConfigText(yaml, {});
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r;
}

function view(over: Partial<PolicyView> = {}): PolicyView {
  return {
    paused: false,
    circuitOpen: false,
    instance: () => undefined,
    activeJob: () => undefined,
    lastActionAt: () => undefined,
    rollbacksSince: () => 0,
    ...over,
  };
}

// Alerts are critical unless a case says otherwise: the shipped rules match only those.
function alert(labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing') {
  labels = { severity: 'critical', ...labels };
  return alertSchema.parse({ status, labels, startsAt: '2026-11-22T11:59:00Z', fingerprint: 'f1' });
}

const shop = { namespace: 'shop', deployment: 'api' };

describe('decideAlert: one case per decision kind', () => {
  const cfg = setup();
  const cases: Array<{
    name: string;
    labels: Record<string, string>;
    status?: 'firing' | 'resolved';
    view?: Partial<PolicyView>;
    yaml?: string;
    expect: DecisionKind;
    reason: RegExp;
  }> = [
    {
      name: 'high confidence → queued',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      expect: 'queued',
      reason: /meets the auto-rollback threshold/,
    },
    {
      name: 'medium confidence → awaiting_approval',
      labels: { alertname: 'RedisConnectionFailure', ...shop },
      expect: 'awaiting_approval',
      reason: /approval/,
    },
    {
      name: 'resolved → resolved',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      status: 'resolved',
      expect: 'resolved',
      reason: /never trigger/,
    },
    {
      name: 'same instance again → duplicate',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { instance: () => ({ decision: 'queued', jobId: 'j1' }) },
      expect: 'duplicate',
      reason: /already handled: queued \(job j1\)/,
    },
    {
      name: 'unknown alert → unmapped',
      labels: { alertname: 'DiskAlmostFull', ...shop },
      expect: 'unmapped',
      reason: /no rule maps alert "DiskAlmostFull"/,
    },
    {
      name: "a shipped rule's alert that is not critical → unmapped",
      labels: { alertname: 'CriticalErrorRate', ...shop, severity: 'warning' },
      expect: 'unmapped',
      reason:
        /^no rule maps alert "CriticalErrorRate" with these labels \(rule CriticalErrorRate needs severity="critical"\)$/,
    },
    {
      name: 'no namespace label → invalid_target',
      labels: { alertname: 'CriticalErrorRate', deployment: 'api' },
      expect: 'invalid_target',
      reason: /no namespace label/,
    },
    {
      name: 'kube-system → invalid_target',
      labels: { alertname: 'CriticalErrorRate', namespace: 'kube-system', deployment: 'coredns' },
      expect: 'invalid_target',
      reason: /denied/,
    },
    {
      name: 'name with shell metacharacters → invalid_target',
      labels: { alertname: 'CriticalErrorRate', namespace: 'shop', deployment: 'api;rm -rf /' },
      expect: 'invalid_target',
      reason: /not a valid Kubernetes object name/,
    },
    {
      name: 'path traversal in name → invalid_target',
      labels: { alertname: 'CriticalErrorRate', namespace: 'shop', deployment: '../../etc' },
      expect: 'invalid_target',
      reason: /not a valid/,
    },
    {
      name: 'unsupported kind → invalid_target',
      labels: { alertname: 'CriticalErrorRate', ...shop, kind: 'CronJob' },
      expect: 'invalid_target',
      reason: /kind "CronJob"/,
    },
    {
      name: 'active job on target → coalesced',
      labels: { alertname: 'CriticalP95Latency', ...shop },
      view: { activeJob: () => ({ id: 'j9', state: 'running' }) },
      expect: 'coalesced',
      reason: /job j9/,
    },
    {
      name: 'paused → paused',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { paused: true },
      expect: 'paused',
      reason: /paused/,
    },
    {
      name: 'within cooldown → cooldown',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { lastActionAt: () => NOW - 60_000 },
      expect: 'cooldown',
      reason: /60s ago; cooldown ends in 1740s/,
    },
    {
      name: 'after cooldown → queued',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { lastActionAt: () => NOW - 1801_000 },
      expect: 'queued',
      reason: /threshold/,
    },
    {
      name: 'circuit already open → circuit_open',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { circuitOpen: true },
      expect: 'circuit_open',
      reason: /operator must resume/,
    },
    {
      name: '4th rollback in the window opens the circuit',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { rollbacksSince: () => 3 },
      expect: 'circuit_open',
      reason: /3 rollbacks in the last 600s \(limit 3\)/,
    },
    {
      name: '4th, but some of the 3 have not acted yet: held back, the circuit is not opened',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { rollbacksSince: () => 3, actedSince: () => 1 },
      expect: 'circuit_open',
      reason:
        /^this would be rollback 4 in the last 600s \(limit 3; 2 of them not acted yet\): decided again when the alert is re-sent$/,
    },
    {
      name: '3rd rollback in the window still runs',
      labels: { alertname: 'CriticalErrorRate', ...shop },
      view: { rollbacksSince: () => 2 },
      expect: 'queued',
      reason: /threshold/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = decideAlert(
        alert(c.labels, c.status),
        NOW,
        cfg.rules,
        cfg.config.policy,
        view(c.view),
      );
      assert.equal(d.decision.decision, c.expect, d.decision.reason);
      assert.match(d.decision.reason, c.reason);
    });
  }

  test('only rollbacks that acted open the circuit (contract.md "Rules", policy)', () => {
    const decide = (acted: number) =>
      decideAlert(
        alert({ alertname: 'CriticalErrorRate', ...shop }),
        NOW,
        cfg.rules,
        cfg.config.policy,
        view({ rollbacksSince: () => 3, actedSince: () => acted }),
      );
    assert.deepEqual(decide(2).effect, { kind: 'none' });
    assert.equal(decide(3).effect.kind, 'open_circuit');
  });

  test('low confidence and autoRollback: false → notify_only', () => {
    const c = setup(
      'rules:\n  - {alert: Low, trigger: t_low, confidence: low}\n  - {alert: Manual, trigger: t_manual, confidence: high, autoRollback: false}\n',
    );
    const low = decideAlert(
      alert({ alertname: 'Low', ...shop }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(low.decision.decision, 'notify_only');
    assert.match(low.decision.reason, /below the approval threshold/);
    const manual = decideAlert(
      alert({ alertname: 'Manual', ...shop }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(manual.decision.decision, 'notify_only');
    assert.match(manual.decision.reason, /autoRollback: false/);
  });

  test('matchers pick the rule; the first matching rule wins', () => {
    const c = setup(
      'rules:\n  - {alert: E, trigger: canary, confidence: low, matchers: [\'track=~"canary|preview"\']}\n  - {alert: E, trigger: stable, confidence: high, matchers: [\'track!="canary"\']}\n',
    );
    const canary = decideAlert(
      alert({ alertname: 'E', track: 'canary', ...shop }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(canary.decision.trigger, 'canary');
    const stable = decideAlert(
      alert({ alertname: 'E', track: 'stable', ...shop }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(stable.decision.trigger, 'stable');
    assert.equal(stable.decision.decision, 'queued');
    const none = setup(
      'rules:\n  - {alert: E, trigger: t, confidence: high, matchers: [\'env="prod"\']}\n',
    );
    assert.equal(
      decideAlert(
        alert({ alertname: 'E', env: 'dev', ...shop }),
        NOW,
        none.rules,
        none.config.policy,
        view(),
      ).decision.decision,
      'unmapped',
    );
  });

  test('allowed namespaces are globs; outside the list → invalid_target', () => {
    const c = setup('policy:\n  allowedNamespaces: ["shop", "team-*"]\n');
    const ok = decideAlert(
      alert({ alertname: 'CriticalErrorRate', namespace: 'team-pay', deployment: 'api' }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(ok.decision.decision, 'queued');
    const no = decideAlert(
      alert({ alertname: 'CriticalErrorRate', namespace: 'billing', deployment: 'api' }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(no.decision.decision, 'invalid_target');
    assert.match(no.decision.reason, /not in policy.allowedNamespaces/);
  });

  test('kind label selects StatefulSet/DaemonSet; target key names the workload', () => {
    const d = decideAlert(
      alert({
        alertname: 'CriticalErrorRate',
        namespace: 'db',
        service: 'pg',
        kind: 'statefulset',
      }),
      NOW,
      cfg.rules,
      cfg.config.policy,
      view(),
    );
    assert.deepEqual(d.decision.target, { kind: 'StatefulSet', namespace: 'db', name: 'pg' });
    assert.equal(d.decision.targetKey, 'StatefulSet/db/pg');
  });

  test('shipped rules: a rollout label (or kind: Rollout) selects an Argo Rollouts Rollout', () => {
    const target = (labels: Record<string, string>) =>
      decideAlert(
        alert({ alertname: 'CriticalErrorRate', namespace: 'shop', ...labels }),
        NOW,
        cfg.rules,
        cfg.config.policy,
        view(),
      ).decision.target;
    assert.deepEqual(target({ rollout: 'checkout', service: 'checkout-svc' }), {
      kind: 'Rollout',
      namespace: 'shop',
      name: 'checkout',
    });
    assert.deepEqual(target({ kind: 'Rollout', service: 'checkout' }), {
      kind: 'Rollout',
      namespace: 'shop',
      name: 'checkout',
    });
    assert.deepEqual(target({ service: 'api' }), {
      kind: 'Deployment',
      namespace: 'shop',
      name: 'api',
    });
  });

  test('only acting decisions make the instance final (paused and circuit_open are re-evaluated)', () => {
    const finals = new Map<DecisionKind, boolean>();
    for (const v of [
      view(),
      view({ paused: true }),
      view({ circuitOpen: true }),
      view({ lastActionAt: () => NOW }),
    ]) {
      const d = decideAlert(
        alert({ alertname: 'CriticalErrorRate', ...shop }),
        NOW,
        cfg.rules,
        cfg.config.policy,
        v,
      );
      finals.set(d.decision.decision, d.final);
    }
    assert.deepEqual(Object.fromEntries(finals), {
      queued: true,
      paused: false,
      circuit_open: false,
      cooldown: true,
    });
  });

  test('script rules: labels naming a workload give a target (pinned, one job per workload)', () => {
    const c = setup(
      'rules:\n  - {alert: S, trigger: t, confidence: high, script: {path: undo.sh}}\n',
    );
    const named = decideAlert(
      alert({ alertname: 'S', ...shop }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(named.decision.decision, 'queued');
    assert.deepEqual(named.decision.target, { kind: 'Deployment', namespace: 'shop', name: 'api' });
    assert.equal(named.decision.targetKey, 'script:undo.sh:Deployment/shop/api');
    const bare = decideAlert(
      alert({ alertname: 'S', service: 'x;y' }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(bare.decision.decision, 'queued', 'a script does not need a workload');
    assert.equal(bare.decision.target, undefined);
    const denied = decideAlert(
      alert({ alertname: 'S', namespace: 'kube-system' }),
      NOW,
      c.rules,
      c.config.policy,
      view(),
    );
    assert.equal(denied.decision.decision, 'invalid_target');
  });

  test('pure: the same inputs give the same decision and the view is only read', () => {
    let reads = 0;
    const v = view({ rollbacksSince: () => (reads++, 0) });
    const a = decideAlert(
      alert({ alertname: 'CriticalErrorRate', ...shop }),
      NOW,
      cfg.rules,
      cfg.config.policy,
      v,
    );
    const b = decideAlert(
      alert({ alertname: 'CriticalErrorRate', ...shop }),
      NOW,
      cfg.rules,
      cfg.config.policy,
      v,
    );
    assert.deepEqual(a.decision, b.decision);
    assert.equal(reads, 2);
  });
});
