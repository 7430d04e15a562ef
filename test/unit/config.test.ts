import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { SPEC_RULES } from '../support/spec-rules.js';

describe('config', () => {
  test('no config: the seven SPEC rules and the SPEC policy defaults', () => {
    const r = parseConfigText('', {});
    assert.ok(r.ok);
    assert.deepEqual(
      r.rules.map((x) => [x.alert, x.trigger, x.confidence, x.autoRollback]),
      SPEC_RULES.map((row) => [...row]),
    );
    const p = r.config.policy;
    assert.equal(p.autoRollbackConfidence, 'high');
    assert.equal(p.approvalConfidence, 'medium');
    assert.equal(p.cooldownSeconds, 1800);
    assert.deepEqual(p.circuitBreaker, { maxRollbacks: 3, windowSeconds: 600 });
    assert.equal(p.optOutAnnotation, 'rollback-controller.io/disabled');
    assert.equal(p.maxRevisionAgeSeconds, 86_400);
    assert.equal(r.config.rollout.deadlineSeconds, 600);
    assert.equal(r.config.verification.windowSeconds, 900);
    assert.equal(r.config.http.bodyLimitBytes, 1024 * 1024);
  });

  test('default targets: deployment label, else service; kind label; namespace label', () => {
    const r = parseConfigText('', {});
    assert.ok(r.ok);
    const t = r.rules[0].target!;
    assert.equal(t.name({ deployment: 'api', service: 'svc' }), 'api');
    assert.equal(t.name({ service: 'svc' }), 'svc');
    assert.equal(t.kind({ kind: 'StatefulSet' }), 'StatefulSet');
    assert.equal(t.kind({}), 'Deployment');
    assert.equal(t.namespace({ namespace: 'shop' }), 'shop');
  });

  test('${ENV} references expand inside values only; $${ escapes', () => {
    const r = parseConfigText(
      'slack:\n  channel: "${CHANNEL}"\n  username: "$${NOT_EXPANDED}"\n  iconEmoji: "${EMOJI}"\n',
      { CHANNEL: '#deploys', EMOJI: ':x: [injected]' },
    );
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.equal(r.config.slack.channel, '#deploys');
    assert.equal(r.config.slack.username, '${NOT_EXPANDED}');
    assert.equal(r.config.slack.iconEmoji, ':x: [injected]');
  });

  test('every problem is listed with its path', () => {
    const r = parseConfigText(
      [
        'rules:',
        '  - alert: A',
        '    trigger: Bad-Trigger',
        '    confidence: extreme',
        '  - alert: B',
        '    trigger: ok_trigger',
        '    confidence: high',
        '    matchers: ["severity"]',
        '    target: { name: "{{ env.X }}" }',
        'policy:',
        '  cooldownSeconds: -1',
        '  unknownKey: 1',
        'slack:',
        '  channel: ${MISSING_VAR}',
      ].join('\n'),
      {},
    );
    assert.equal(r.ok, false);
    const paths = !r.ok ? r.problems.map((p) => p.path) : [];
    for (const expected of [
      'rules.0.trigger',
      'rules.0.confidence',
      'policy.cooldownSeconds',
      'policy',
      'slack.channel',
    ]) {
      assert.ok(paths.includes(expected), `missing ${expected} in ${paths.join(', ')}`);
    }
  });

  test('policy.owners: suspend by default; a wrong mode or namespace is reported with its path', () => {
    const d = parseConfigText('', {});
    assert.ok(d.ok);
    assert.deepEqual(d.config.policy.owners, {
      argocd: 'suspend',
      flux: 'suspend',
      argocdNamespaces: ['argocd'],
      resumeCheckSeconds: 30,
    });
    const r = parseConfigText(
      'policy: { owners: { argocd: pause, flux: skip, argocdNamespaces: [Argo_CD] } }',
      {},
    );
    assert.equal(r.ok, false);
    const problems = !r.ok ? r.problems.map((p) => `${p.path}: ${p.message}`) : [];
    assert.ok(
      problems.some((p) => /^policy\.owners\.argocd: must be suspend .* or skip/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) =>
        p.startsWith('policy.owners.argocdNamespaces.0: must be a namespace name'),
      ),
      problems.join('\n'),
    );
  });

  test('matcher and template problems are reported once the schema passes', () => {
    const r = parseConfigText(
      'rules:\n  - alert: B\n    trigger: t\n    confidence: high\n    matchers: ["severity"]\n    target: { name: "{{ env.X }}" }\n',
      {},
    );
    assert.equal(r.ok, false);
    const paths = !r.ok ? r.problems.map((p) => p.path) : [];
    assert.deepEqual(paths.sort(), ['rules.0.matchers.0', 'rules.0.target.name']);
  });

  test('YAML syntax errors and non-mapping documents are reported', () => {
    const bad = parseConfigText('rules: [', {});
    assert.equal(bad.ok, false);
    const list = parseConfigText('- a\n- b\n', {});
    assert.equal(list.ok, false);
    assert.match(!list.ok ? list.problems[0].message : '', /mapping/);
  });

  test('a rule cannot have both a target and a script; script paths stay inside the scripts dir', () => {
    const both = parseConfigText(
      'rules:\n  - {alert: A, trigger: t, confidence: high, target: {}, script: {path: x.sh}}\n',
      {},
    );
    assert.equal(both.ok, false);
    const escape = parseConfigText(
      'rules:\n  - {alert: A, trigger: t, confidence: high, script: {path: ../../bin/sh}}\n',
      {},
    );
    assert.equal(escape.ok, false);
    assert.match(!escape.ok ? escape.problems[0].path : '', /rules\.0\.script\.path/);
  });
});
