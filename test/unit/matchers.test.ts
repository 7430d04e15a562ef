import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasNestedQuantifier, MAX_REGEX_INPUT, parseMatcher } from '../../src/alerts/matchers.js';
import { compileLabelTemplate } from '../../src/alerts/label-template.js';

describe('Alertmanager matchers', () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['severity="critical"', { severity: 'critical' }, true],
    ['severity="critical"', { severity: 'warning' }, false],
    ['severity=critical', { severity: 'critical' }, true],
    ['severity!="critical"', { severity: 'warning' }, true],
    ['severity!="critical"', {}, true],
    ['team=""', {}, true],
    ['service=~"api|web"', { service: 'api' }, true],
    ['service=~"api"', { service: 'api-gateway' }, false], // anchored like Alertmanager
    ['service!~"canary-.*"', { service: 'canary-1' }, false],
    ['service!~"canary-.*"', { service: 'stable' }, true],
    ['  env =~ "prod.*"  ', { env: 'production' }, true],
    ['msg="a \\"quoted\\" value"', { msg: 'a "quoted" value' }, true],
  ];
  for (const [text, labels, expected] of cases) {
    test(`${text} on ${JSON.stringify(labels)} → ${expected}`, () => {
      assert.equal(parseMatcher(text).test(labels), expected);
    });
  }

  for (const bad of ['severity', '=x', 'a=~"("', 'a="unterminated', '1abc="x"', 'a=b c']) {
    test(`rejects ${JSON.stringify(bad)} with a reason`, () => {
      assert.throws(() => parseMatcher(bad), /matcher|regular expression|quote|quoted/);
    });
  }
});

describe('label templates', () => {
  test('renders labels, falls back with ||, keeps literal text', () => {
    const t = compileLabelTemplate('{{ labels.deployment || labels.service }}');
    assert.equal(t({ deployment: 'api', service: 'svc' }), 'api');
    assert.equal(t({ service: 'svc' }), 'svc');
    assert.equal(t({}), '');
    assert.equal(compileLabelTemplate('{{ labels.kind || "Deployment" }}')({}), 'Deployment');
    assert.equal(
      compileLabelTemplate('team-{{labels.team}}-prod')({ team: 'pay' }),
      'team-pay-prod',
    );
  });
  test('a && "Kind" selects a kind only when the label is there; kind still wins', () => {
    const kind = compileLabelTemplate(
      '{{ labels.kind || labels.rollout && "Rollout" || "Deployment" }}',
    );
    assert.equal(kind({ rollout: 'checkout' }), 'Rollout');
    assert.equal(kind({ rollout: '' }), 'Deployment');
    assert.equal(kind({}), 'Deployment');
    assert.equal(kind({ kind: 'StatefulSet', rollout: 'checkout' }), 'StatefulSet');
    assert.equal(compileLabelTemplate('{{ labels.a && labels.b }}')({ a: 'x', b: 'y' }), 'y');
    assert.equal(compileLabelTemplate('{{ labels.a && labels.b }}')({ b: 'y' }), '');
    assert.throws(
      () => compileLabelTemplate('{{ labels.a && env.B }}'),
      /unsupported template term/,
    );
  });
  test('label values are data, never template syntax', () => {
    const t = compileLabelTemplate('{{ labels.name }}');
    assert.equal(t({ name: '{{ labels.secret }}' }), '{{ labels.secret }}');
  });
  for (const bad of ['{{ env.HOME }}', '{{ labels.a | upper }}', '{{ labels.a ', 'x }}']) {
    test(`rejects ${bad}`, () => assert.throws(() => compileLabelTemplate(bad)));
  }
});

describe('hostile label values against config regexes', () => {
  // The review's case: V8's backtracking engine took 14.5 s on 31 `a`s; liveness then restarted
  // the pod over and over. Here every evaluation must leave the event loop within 100 ms.
  const slowest = (text: string, values: string[]) => {
    const m = parseMatcher(text);
    let worst = 0;
    for (const v of values) {
      const t0 = performance.now();
      m.test({ service: v });
      worst = Math.max(worst, performance.now() - t0);
    }
    return worst;
  };
  const hostile = [31, 64, 1000, MAX_REGEX_INPUT, MAX_REGEX_INPUT + 1, 1024 * 1024].map((n) =>
    'a'.repeat(n),
  );

  for (const text of ['service=~"(a+)+b"', 'service!~"(a+)+b"', 'service=~"(a|aa)*c"']) {
    test(`${text}: no value blocks the event loop for 100 ms`, () => {
      parseMatcher(text).test({ service: 'warm-up' });
      const worst = slowest(text, hostile);
      assert.ok(worst < 100, `${text} took ${worst.toFixed(1)} ms on a hostile value`);
    });
  }

  test('the RE2 engine still matches what Alertmanager matches', () => {
    const m = parseMatcher('service=~"(a+)+b"');
    assert.equal(m.test({ service: `${'a'.repeat(31)}b` }), true);
    assert.equal(m.test({ service: 'a'.repeat(31) }), false);
    assert.equal(parseMatcher('service!~"(a+)+b"').test({ service: 'a'.repeat(31) }), true);
  });

  test('a value longer than the bound never satisfies a regex matcher, =~ or !~', () => {
    const long = 'x'.repeat(MAX_REGEX_INPUT + 1);
    assert.equal(parseMatcher('service=~".*"').test({ service: long }), false);
    assert.equal(parseMatcher('service!~"api"').test({ service: long }), false);
    assert.equal(parseMatcher('service=~".*"').test({ service: long.slice(1) }), true);
  });

  const nested: Array<[string, boolean]> = [
    ['(a+)+b', true],
    ['(\\w*x)*', true],
    ['(a|b+){2,}', true],
    ['((ab)*c)+', true],
    ['(?:a+)+', true],
    ['(a+){1}', false],
    ['(a+)?', false],
    ['api|web', false],
    ['canary-.*', false],
    ['(api|web)-[0-9]+', false],
    ['[(+]+', false],
    ['\\(a+\\)+', false],
  ];
  for (const [pattern, expected] of nested) {
    test(`nested quantifier in ${JSON.stringify(pattern)}: ${expected ? 'warned' : 'not warned'}`, () => {
      assert.equal(hasNestedQuantifier(pattern), expected);
      const m = parseMatcher(`service=~${JSON.stringify(pattern)}`);
      assert.equal(m.warning !== undefined, expected);
    });
  }
});
