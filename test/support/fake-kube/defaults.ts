// The defaults the real API server fills in for the workload kinds, so objects read back look
// like a cluster's (a template compared with a revision's copy must include the same fields).
import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

type Loose = Record<string, unknown>;

export function applyDefaults(type: ResourceType, object: KubeObject): void {
  const spec = object.spec as Loose | undefined;
  if (!spec || typeof spec !== 'object') return;
  switch (type.kind) {
    case 'Deployment':
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate' };
      defaultRollingUpdate(spec.strategy as Loose, { maxSurge: '25%', maxUnavailable: '25%' });
      break;
    case 'ReplicaSet':
      spec.replicas ??= 1;
      break;
    case 'StatefulSet':
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= 'OrderedReady';
      spec.revisionHistoryLimit ??= 10;
      spec.updateStrategy ??= { type: 'RollingUpdate' };
      defaultRollingUpdate(spec.updateStrategy as Loose, { partition: 0 });
      spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
      break;
    case 'DaemonSet':
      spec.revisionHistoryLimit ??= 10;
      spec.updateStrategy ??= { type: 'RollingUpdate' };
      defaultRollingUpdate(spec.updateStrategy as Loose, { maxUnavailable: 1, maxSurge: 0 });
      break;
    default:
      return;
  }
  if (spec.template && typeof spec.template === 'object')
    defaultPodTemplate(spec.template as Loose);
}

function defaultRollingUpdate(strategy: Loose, values: Loose): void {
  if (strategy.type !== 'RollingUpdate') return;
  const rolling = (strategy.rollingUpdate ??= {}) as Loose;
  for (const [key, value] of Object.entries(values)) rolling[key] ??= value;
}

function defaultPodTemplate(template: Loose): void {
  const metadata = (template.metadata ??= {}) as Loose;
  // A real 1.35 API server omits the template's zero creationTimestamp (clients built on older
  // Go types, like kubectl 1.33, still send null). kubectl's "already matches" check for
  // StatefulSets and DaemonSets compares bytes, so on a real server it never matches: undoing
  // to the current revision sends a no-op patch ("rolled back"), not "skipped rollback".
  if (metadata.creationTimestamp === null) delete metadata.creationTimestamp;
  const spec = template.spec as Loose | undefined;
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (Array.isArray(containers)) for (const c of containers as Loose[]) defaultContainer(c);
  }
}

function defaultContainer(container: Loose): void {
  container.resources ??= {};
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  if (typeof container.image === 'string') {
    const lastPart = container.image.split('/').pop() ?? '';
    const tagged = lastPart.includes(':') && !lastPart.endsWith(':latest');
    container.imagePullPolicy ??=
      tagged || container.image.includes('@') ? 'IfNotPresent' : 'Always';
  }
  if (Array.isArray(container.ports)) {
    for (const port of container.ports as Loose[]) port.protocol ??= 'TCP';
  }
}
