import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ApiException } from '@kubernetes/client-node';
import {
  KubeConflictError,
  ForbiddenError,
  InvalidError,
  KubeApiError,
  KubeNotFoundError,
  TransientError,
  isPatchNotApplicable,
  toKubeError,
} from '../../src/kube/kube-errors.js';
import { withRetry } from '../../src/kube/with-retry.js';
import { loadKubeConfig, NO_KUBE_CONFIG } from '../../src/kube/load-kube-config.js';

const status = (code: number, message: string) =>
  new ApiException(code, 'x', JSON.stringify({ kind: 'Status', code, message }), {});

describe('422: classified by the Status reason and causes, never by message text', () => {
  // Bodies as kube-apiserver 1.35 answers them (test/cluster/rollback-deployment.test.ts).
  const body = (message: string, details: unknown) =>
    new ApiException(
      422,
      'x',
      JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        message,
        reason: 'Invalid',
        details,
        code: 422,
      }),
      {},
    );
  test('a JSON patch the server could not apply (failed test op): re-read and decide again', () => {
    const err = toKubeError(
      body('the server rejected our request due to an error in our request', {}),
      'PATCH Deployment test-ns/test-web',
    );
    assert.ok(err instanceof InvalidError);
    assert.equal(isPatchNotApplicable(err), true);
  });
  test('a validation error naming "test" objects: not a conflict, whatever the text says', () => {
    const err = toKubeError(
      body(
        'Deployment.apps "test-web" is invalid: spec.template.spec.containers[0].image: Required value (test failed; resourceVersion)',
        {
          name: 'test-web',
          group: 'apps',
          kind: 'Deployment',
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value',
              field: 'spec.template.spec.containers[0].image',
            },
          ],
        },
      ),
      'PATCH Deployment test-ns/test-web',
    );
    assert.ok(err instanceof InvalidError);
    assert.equal(err.statusReason, 'Invalid');
    assert.equal(isPatchNotApplicable(err), false);
    assert.equal(isPatchNotApplicable(new KubeConflictError('x', 409)), false);
  });
});

describe('toKubeError', () => {
  const cases: Array<[string, unknown, new (...a: never[]) => KubeApiError]> = [
    ['404', status(404, 'deployments.apps "web" not found'), KubeNotFoundError],
    ['409', status(409, 'the object has been modified'), KubeConflictError],
    ['403', status(403, 'forbidden'), ForbiddenError],
    ['401', status(401, 'Unauthorized'), ForbiddenError],
    ['422', status(422, 'invalid'), InvalidError],
    ['400', status(400, 'bad'), InvalidError],
    ['429', status(429, 'slow down'), TransientError],
    ['500', status(500, 'etcd'), TransientError],
    ['503', status(503, 'unavailable'), TransientError],
    ['timeout', Object.assign(new Error('aborted'), { name: 'AbortError' }), TransientError],
    [
      'ECONNREFUSED',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      TransientError,
    ],
    [
      'ECONNRESET',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      TransientError,
    ],
    ['other', new Error('boom'), KubeApiError],
  ];
  for (const [name, err, cls] of cases) {
    test(name, () => {
      const mapped = toKubeError(err, 'GET Deployment prod/web');
      assert.ok(mapped instanceof cls, `${mapped.name} is not ${cls.name}`);
      assert.match(mapped.message, /^GET Deployment prod\/web: /);
    });
  }
  test('uses the Status message, not the raw body', () => {
    const mapped = toKubeError(status(404, 'deployments.apps "web" not found'), 'GET');
    assert.equal(mapped.message, 'GET: 404 deployments.apps "web" not found');
    assert.equal(mapped.status, 404);
  });
});

describe('withRetry', () => {
  const fastSleep = () => {
    const delays: number[] = [];
    return { delays, sleep: async (ms: number) => void delays.push(ms) };
  };
  test('retries Conflict and Transient with growing, capped, jittered delays', async () => {
    const { delays, sleep } = fastSleep();
    const errors = [
      new KubeConflictError('c'),
      new TransientError('t'),
      new TransientError('t'),
      new TransientError('t'),
    ];
    const result = await withRetry(
      async (attempt) => {
        const e = errors.shift();
        if (e) throw e;
        return attempt;
      },
      { attempts: 5, baseDelayMs: 100, maxDelayMs: 300, sleep, random: () => 1 },
    );
    assert.equal(result, 5);
    assert.deepEqual(delays, [100, 200, 300, 300]);
  });
  test('jitter stays between half and all of the step', async () => {
    const { delays, sleep } = fastSleep();
    let n = 0;
    await withRetry(
      async () => {
        if (n++ === 0) throw new TransientError('t');
      },
      { attempts: 2, baseDelayMs: 100, maxDelayMs: 1000, sleep, random: () => 0 },
    );
    assert.deepEqual(delays, [50]);
  });
  test('does not retry NotFound, Invalid or Forbidden', async () => {
    for (const err of [
      new KubeNotFoundError('n'),
      new InvalidError('i'),
      new ForbiddenError('f'),
    ]) {
      let calls = 0;
      await assert.rejects(
        withRetry(
          async () => {
            calls++;
            throw err;
          },
          { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} },
        ),
        err,
      );
      assert.equal(calls, 1);
    }
  });
  test('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new TransientError(`t${calls}`);
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} },
      ),
      /t3/,
    );
    assert.equal(calls, 3);
  });
  test('stops retrying once the signal is aborted', async () => {
    const ac = new AbortController();
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          ac.abort();
          throw new TransientError('t');
        },
        { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {}, signal: ac.signal },
      ),
    );
    assert.equal(calls, 1);
  });
});

describe('loadKubeConfig', () => {
  test('no cluster, no KUBECONFIG, no ~/.kube/config: a clear reason, no throw', () => {
    assert.deepEqual(loadKubeConfig({ env: {}, homeDir: '/nowhere', exists: () => false }), {
      reason: NO_KUBE_CONFIG,
    });
  });
  test('KUBECONFIG naming missing files says so', () => {
    const r = loadKubeConfig({
      env: { KUBECONFIG: '/missing/a' },
      homeDir: '/nowhere',
      exists: () => false,
    });
    assert.match('reason' in r ? r.reason : '', /KUBECONFIG names no existing file/);
  });
  test('KUBERNETES_SERVICE_HOST without a service account token is not "in cluster"', () => {
    const r = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' },
      homeDir: '/nowhere',
      exists: () => false,
    });
    assert.deepEqual(r, { reason: NO_KUBE_CONFIG });
  });
});
