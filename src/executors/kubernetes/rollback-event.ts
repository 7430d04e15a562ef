// The core/v1 Event a rollback leaves on the workload, so `kubectl describe` and event
// exporters show who changed it and why.
import type { WorkloadRef } from '../../model/workload-ref.js';
import type { KubeEvent } from '../../kube/kube-client.js';
import type { Workload } from '../../kube/kube-types.js';
import type { LastRollback } from '../../kube/last-rollback.js';
import { ROLLOUT_API_VERSION } from './rollouts/argo-rollout.js';

export function rollbackEvent(input: {
  ref: WorkloadRef;
  workload: Workload;
  record: LastRollback;
  controllerName: string;
  instance: string;
  now: number;
  type?: 'Normal' | 'Warning';
}): KubeEvent {
  const { ref, workload, record, now } = input;
  const at = new Date(now).toISOString();
  return {
    // client-go names events <object>.<unique hex>; a timestamp plus a random part is unique enough.
    metadata: {
      name: `${ref.name}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
      namespace: ref.namespace,
    },
    involvedObject: {
      apiVersion: ref.kind === 'Rollout' ? ROLLOUT_API_VERSION : 'apps/v1',
      kind: ref.kind,
      namespace: ref.namespace,
      name: ref.name,
      ...(workload.metadata.uid ? { uid: workload.metadata.uid } : {}),
      ...(workload.metadata.resourceVersion
        ? { resourceVersion: workload.metadata.resourceVersion }
        : {}),
    },
    reason: 'RollbackTriggered',
    message: `Rolled back from revision ${record.fromRevision} to ${record.toRevision}: alert ${record.alert} (trigger ${record.trigger}, job ${record.jobId})`,
    type: input.type ?? 'Warning',
    source: { component: input.controllerName },
    reportingComponent: input.controllerName,
    reportingInstance: input.instance,
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  };
}
