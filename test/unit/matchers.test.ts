import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseMatcher } from '../../src/alerts/matchers.js';
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
  test('label values are data, never template syntax', () => {
    const t = compileLabelTemplate('{{ labels.name }}');
    assert.equal(t({ name: '{{ labels.secret }}' }), '{{ labels.secret }}');
  });
  for (const bad of ['{{ env.HOME }}', '{{ labels.a | upper }}', '{{ labels.a ', 'x }}']) {
    test(`rejects ${bad}`, () => assert.throws(() => compileLabelTemplate(bad)));
  }
});
