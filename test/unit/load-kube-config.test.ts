// ROLLBACK_KUBE_CONTEXT chooses which cluster of a kubeconfig the controller patches, and the
// result names it (API server URL, context) for the start-up line, /status and the dry run.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadKubeConfig } from '../../src/kube/load-kube-config.js';
import { PROD_SERVER, STAGING_SERVER, twoContextKubeconfig } from '../support/kubeconfig-file.js';

const target = (r: ReturnType<typeof loadKubeConfig>) => ('target' in r ? r.target : r);

test('without ROLLBACK_KUBE_CONTEXT: the current context', () => {
  const r = loadKubeConfig({ env: { KUBECONFIG: twoContextKubeconfig() } });
  assert.deepEqual(target(r), { server: STAGING_SERVER, context: 'staging' });
});

test('ROLLBACK_KUBE_CONTEXT selects another context, and the client uses it', () => {
  const r = loadKubeConfig({
    env: { KUBECONFIG: twoContextKubeconfig(), ROLLBACK_KUBE_CONTEXT: 'prod-eu' },
  });
  assert.deepEqual(target(r), { server: PROD_SERVER, context: 'prod-eu' });
  assert.ok('kubeConfig' in r);
  assert.equal(r.kubeConfig.getCurrentCluster()?.server, PROD_SERVER);
});

test('an unknown context is refused with the contexts there are, nothing loaded', () => {
  const r = loadKubeConfig({
    env: { KUBECONFIG: twoContextKubeconfig(), ROLLBACK_KUBE_CONTEXT: 'prod-us' },
  });
  assert.ok('reason' in r);
  assert.match(
    r.reason,
    /^ROLLBACK_KUBE_CONTEXT=prod-us names no context in \S+ \(contexts: staging, prod-eu\)$/,
  );
});

test('an explicit context wins over the in-cluster service account', () => {
  const r = loadKubeConfig({
    env: {
      KUBECONFIG: twoContextKubeconfig(),
      ROLLBACK_KUBE_CONTEXT: 'prod-eu',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    },
  });
  assert.deepEqual(target(r), { server: PROD_SERVER, context: 'prod-eu' });
});

test('a user or password in the server URL is never shown', () => {
  const path = twoContextKubeconfig();
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: 'https://admin:hunter22@10.1.2.3:6443' } }],
      users: [{ name: 'u', user: {} }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    }),
  );
  const r = loadKubeConfig({ env: { KUBECONFIG: path } });
  assert.deepEqual(target(r), { server: 'https://10.1.2.3:6443', context: 'c' });
});
