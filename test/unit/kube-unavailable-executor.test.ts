// Without a cluster configuration the Kubernetes executor is the unavailable executor: it says
// why everywhere it is asked, and a job fails with that reason instead of an error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js';
import { connectKube } from '../../src/kube/connect-kube.js';
import { sampleJob } from './notify-fixtures.js';

const REASON = 'KUBECONFIG names no existing file (/nonexistent/kubeconfig)';

describe('the unavailable Kubernetes executor', () => {
  const executor = createKubernetesExecutor(
    connectKube({ env: { KUBECONFIG: '/nonexistent/kubeconfig' } }),
    {
      optOutAnnotation: 'rollback-controller.io/disabled',
    },
  );
  const ctx = {
    signal: new AbortController().signal,
    progress: () => undefined,
    update: async () => undefined,
    rolloutTimeoutMs: 60_000,
  };

  test('availability, plan and pin say why and change nothing', async () => {
    assert.deepEqual(await executor.availability(), { available: false, reason: REASON });
    assert.deepEqual(await executor.plan(sampleJob()), { action: 'unavailable', reason: REASON });
    assert.deepEqual(await executor.pin?.(sampleJob()), {});
  });

  test('a job fails with the reason; a job without a target says that instead', async () => {
    assert.deepEqual(await executor.execute(sampleJob(), ctx), {
      outcome: 'failed',
      reason: `Kubernetes executor unavailable: ${REASON}`,
    });
    assert.deepEqual(await executor.recover?.(sampleJob(), ctx), {
      outcome: 'failed',
      reason: `Kubernetes executor unavailable: ${REASON}`,
    });
    const untargeted = sampleJob();
    delete untargeted.target;
    assert.deepEqual(await executor.plan(untargeted), {
      action: 'skip',
      reason: 'job has no Kubernetes target',
    });
    assert.equal((await executor.execute(untargeted, ctx)).reason, 'job has no Kubernetes target');
  });
});
