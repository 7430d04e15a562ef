// Label and field selectors of the fake API server, with Kubernetes' matching rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fromLabelSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../selectors.js';
import { ApiError } from '../types.js';

const pods: Record<string, Record<string, string> | undefined> = {
  webProd: { app: 'web', env: 'prod', tier: 'front' },
  webDev: { app: 'web', env: 'dev' },
  db: { app: 'db', env: 'prod' },
  bare: undefined,
};

function select(selector: string): string[] {
  const requirements = parseLabelSelector(selector);
  return Object.entries(pods)
    .filter(([, labels]) => matchesLabels(requirements, labels))
    .map(([name]) => name);
}

describe('label selectors', () => {
  const cases: Array<[string, string[]]> = [
    ['', ['webProd', 'webDev', 'db', 'bare']],
    ['app=web', ['webProd', 'webDev']],
    ['app==web', ['webProd', 'webDev']],
    ['app = web , env = prod', ['webProd']],
    // != and notin also match objects without the label, as in Kubernetes.
    ['app!=web', ['db', 'bare']],
    ['env in (prod, staging)', ['webProd', 'db']],
    ['env notin (prod)', ['webDev', 'bare']],
    ['tier', ['webProd']],
    ['!tier', ['webDev', 'db', 'bare']],
    ['app=web,!tier', ['webDev']],
    ['app in (web,db),env notin (dev),tier', ['webProd']],
    ['app.kubernetes.io/name=web', []],
  ];
  for (const [selector, expected] of cases) {
    test(`"${selector}" selects ${expected.join(', ') || 'nothing'}`, () => {
      assert.deepEqual(select(selector), expected);
    });
  }

  test('bad syntax is a 400 BadRequest', () => {
    for (const bad of ['app in web', 'a=b=c', 'app in (a', '=web']) {
      assert.throws(
        () => parseLabelSelector(bad),
        (error: unknown) =>
          error instanceof ApiError && error.code === 400 && error.reason === 'BadRequest',
        bad,
      );
    }
  });

  test('a workload selector object: matchLabels and matchExpressions', () => {
    const requirements = fromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'tier', operator: 'DoesNotExist' },
      ],
    });
    assert.equal(matchesLabels(requirements, pods.webDev), true);
    assert.equal(matchesLabels(requirements, pods.webProd), false);
    assert.equal(
      matchesLabels(
        fromLabelSelector({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }),
        pods.db,
      ),
      true,
    );
    assert.equal(
      matchesLabels(
        fromLabelSelector({
          matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }],
        }),
        pods.db,
      ),
      false,
    );
    assert.throws(
      () => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }),
      ApiError,
    );
  });
});

describe('field selectors', () => {
  const event = {
    metadata: { name: 'web.1', namespace: 'shop' },
    involvedObject: { kind: 'Deployment', name: 'web', uid: 'u1' },
    reason: 'RolledBack',
    count: 2,
  };

  test('metadata and nested involvedObject fields, = == and !=', () => {
    assert.equal(matchesFields(parseFieldSelector('metadata.name=web.1'), event), true);
    assert.equal(
      matchesFields(
        parseFieldSelector('metadata.namespace==shop,involvedObject.kind=Deployment'),
        event,
      ),
      true,
    );
    assert.equal(
      matchesFields(parseFieldSelector('involvedObject.name=web,involvedObject.uid=u2'), event),
      false,
    );
    assert.equal(matchesFields(parseFieldSelector('reason!=Killing'), event), true);
    assert.equal(matchesFields(parseFieldSelector('count=2'), event), true);
    assert.equal(matchesFields(parseFieldSelector('involvedObject.fieldPath='), event), true);
    assert.equal(matchesFields(parseFieldSelector(''), event), true);
  });

  test('bad syntax is a 400', () => {
    assert.throws(
      () => parseFieldSelector('metadata.name'),
      (e: unknown) => e instanceof ApiError && e.code === 400,
    );
  });
});
