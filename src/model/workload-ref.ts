// A workload the controller can roll back, and the key that names it (one lane per target).
import type { WorkloadKind } from '../config/schema.js';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export function workloadKey(ref: WorkloadRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
