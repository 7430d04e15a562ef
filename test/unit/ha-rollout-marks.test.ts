// A new leader lists the pending-rollback marks of every kind it may have to adopt: Argo Rollouts
// `Rollout`s too, but only where the API server serves rollouts.argoproj.io. Argo Rollouts not
// installed (discovery 404) or not granted (403) never stops the other kinds from being adopted,
// and a 403 is said in a warning that names the grant.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaKey } from '../../src/http/replica-key.js';
import { createWorkloadMarks } from '../../src/ha/workload-marks.js';
import {
  PENDING_ROLLBACK_ANNOTATION,
  PENDING_ROLLBACK_LABEL,
  signedPending,
  type PendingRollback,
} from '../../src/ha/pending-rollback.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import { ForbiddenError, KubeNotFoundError } from '../../src/kube/kube-errors.js';
import type { Workload } from '../../src/kube/kube-types.js';
import type { WorkloadKind } from '../../src/config/schema.js';
import type { WorkloadRef } from '../../src/model/workload-ref.js';

const KEY = replicaKey('webhook-secret', 'operator-secret')!;
const pending = (jobId: string): PendingRollback => ({
  jobId,
  alertname: 'CriticalErrorRate',
  fingerprint: `fp-${jobId}`,
  startsAt: '2026-12-07T10:00:00.000Z',
  labels: { namespace: 'shop' },
  rule: 'CriticalErrorRate',
  trigger: 'error_rate_threshold',
  confidence: 'high',
  fromRevision: 2,
  toRevision: 1,
  createdAt: '2026-12-07T10:00:01.000Z',
  acceptedBy: 'rc-dead',
});

/** A workload carrying a mark signed by a replica, as a dead leader leaves it. */
function marked(kind: WorkloadKind, name: string, jobId: string): Workload {
  const ref: WorkloadRef = { kind, namespace: 'shop', name };
  const uid = `uid-${name}`;
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid,
      labels: { [PENDING_ROLLBACK_LABEL]: 'true' },
      annotations: {
        [PENDING_ROLLBACK_ANNOTATION]: signedPending(pending(jobId), { ref, uid }, KEY),
      },
    },
    spec: { template: {} },
  };
}

/** A client answering discovery and lists only, recording what was listed. */
function client(o: { serves: boolean | Error; rollouts?: Workload[] | Error }): {
  kube: KubeClient;
  listed: string[];
} {
  const listed: string[] = [];
  const kube = {
    async servesResource(group: string, version: string, resource: string) {
      assert.deepEqual([group, version, resource], ['argoproj.io', 'v1alpha1', 'rollouts']);
      if (o.serves instanceof Error) throw o.serves;
      return o.serves;
    },
    async listWorkloads(kind: WorkloadKind, ns: string | undefined) {
      listed.push(`${kind} ${ns ?? '*'}`);
      if (kind === 'Deployment') return [marked('Deployment', 'api', 'job-d')];
      if (kind === 'Rollout') {
        if (o.rollouts instanceof Error) throw o.rollouts;
        return o.rollouts ?? [];
      }
      return [];
    },
  } as unknown as KubeClient;
  return { kube, listed };
}

function marks(kube: KubeClient) {
  const warnings: string[] = [];
  const m = createWorkloadMarks({
    kube,
    fieldManager: 'rollback-controller',
    key: KEY,
    warn: (_fields, message) => void warnings.push(message),
  });
  return { m, warnings };
}

describe('pending-rollback marks of Rollouts on takeover', () => {
  test('served: a Rollout mark is listed (signed, adoptable) beside the Deployment marks', async () => {
    const { kube, listed } = client({
      serves: true,
      rollouts: [marked('Rollout', 'cart', 'job-r')],
    });
    const { m, warnings } = marks(kube);
    const found = await m.list();
    assert.deepEqual(
      found.map((f) => [f.ref.kind, f.ref.name, f.pending?.jobId, f.forged]),
      [
        ['Deployment', 'api', 'job-d', undefined],
        ['Rollout', 'cart', 'job-r', undefined],
      ],
    );
    assert.deepEqual(listed, ['Deployment *', 'StatefulSet *', 'DaemonSet *', 'Rollout *']);
    assert.deepEqual(warnings, []);
  });

  test('in each scanned namespace when the scan is namespaced', async () => {
    const { kube, listed } = client({ serves: true });
    await marks(kube).m.list(['shop', 'cart']);
    assert.deepEqual(
      listed.filter((l) => l.startsWith('Rollout')),
      ['Rollout shop', 'Rollout cart'],
    );
  });

  test('not served (no Argo Rollouts: discovery 404): never listed, no warning', async () => {
    const { kube, listed } = client({ serves: false });
    const { m, warnings } = marks(kube);
    const found = await m.list();
    assert.deepEqual(
      found.map((f) => f.ref.kind),
      ['Deployment'],
    );
    assert.ok(!listed.some((l) => l.startsWith('Rollout')));
    assert.deepEqual(warnings, []);
  });

  test('the CRD removed between discovery and the list (404): the other kinds still listed', async () => {
    const { kube } = client({
      serves: true,
      rollouts: new KubeNotFoundError('LIST Rollouts in all namespaces: 404', 404),
    });
    const { m, warnings } = marks(kube);
    assert.deepEqual(
      (await m.list()).map((f) => f.ref.kind),
      ['Deployment'],
    );
    assert.deepEqual(warnings, []);
  });

  test('listing rollouts forbidden (403): a warning naming the grant, the other kinds adopted', async () => {
    const { kube } = client({
      serves: true,
      rollouts: new ForbiddenError('LIST Rollouts in all namespaces: 403 forbidden', 403),
    });
    const { m, warnings } = marks(kube);
    assert.deepEqual(
      (await m.list()).map((f) => f.ref.kind),
      ['Deployment'],
    );
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /^cannot list rollouts\.argoproj\.io in all namespaces: a pending Rollout job of the previous leader there is not adopted \(grant list on rollouts\.argoproj\.io; chart: argoRollouts\.enabled=true\)/,
    );
  });

  test('discovery itself forbidden: the same warning, the other kinds adopted', async () => {
    const { kube, listed } = client({
      serves: new ForbiddenError('GET /apis/argoproj.io/v1alpha1: 403', 403),
    });
    const { m, warnings } = marks(kube);
    assert.deepEqual(
      (await m.list()).map((f) => f.ref.kind),
      ['Deployment'],
    );
    assert.ok(!listed.some((l) => l.startsWith('Rollout')));
    assert.match(warnings[0] ?? '', /grant list on rollouts\.argoproj\.io/);
  });

  test('any other failure of the Rollout list is thrown (the takeover retries)', async () => {
    const { kube } = client({ serves: true, rollouts: new Error('socket hang up') });
    await assert.rejects(marks(kube).m.list(), /socket hang up/);
  });
});
