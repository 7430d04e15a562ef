// The subset of API validation that callers trip over: names, workload selectors and templates,
// immutable selectors. Failures are 422 Invalid with causes, as the real server reports them.
import { deepEqual } from './json.js';
import type { ResourceType } from './resources.js';
import { fromLabelSelector, matchesLabels } from './selectors.js';
import { ApiError, type KubeObject, type Workload } from './types.js';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface Cause {
  field: string;
  message: string;
}

export function validateName(name: string, asLabel: boolean): string | undefined {
  if (asLabel) {
    if (name.length > 63 || !dns1123Label.test(name)) {
      return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (regex used for validation is '${dns1123Label.source.slice(1, -1)}')`;
    }
  } else if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (regex used for validation is '${dns1123Subdomain.source.slice(1, -1)}')`;
  }
  return undefined;
}

export function validate(type: ResourceType, object: KubeObject, old?: KubeObject): void {
  const causes: Cause[] = [];
  const name = object.metadata.name;
  const nameProblem = validateName(name, type.kind === 'Namespace');
  if (nameProblem)
    causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": ${nameProblem}` });
  if (type.hasGeneration)
    causes.push(...validateWorkload(object as Workload, old as Workload | undefined));
  if (causes.length === 0) return;
  const kind = type.group ? `${type.kind}.${type.group}` : type.kind;
  const message = `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`;
  throw new ApiError(422, 'Invalid', message, {
    name,
    group: type.group,
    kind: type.kind,
    causes: causes.map((c) => ({
      reason: 'FieldValueInvalid',
      message: c.message,
      field: c.field,
    })),
  });
}

function validateWorkload(object: Workload, old: Workload | undefined): Cause[] {
  const causes: Cause[] = [];
  const spec = object.spec as Partial<Workload['spec']> | undefined;
  if (!spec || typeof spec !== 'object') return [{ field: 'spec', message: 'Required value' }];
  const selector = spec.selector;
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) {
    causes.push({ field: 'spec.selector', message: 'Required value' });
  }
  const replicas = spec.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
    causes.push({
      field: 'spec.replicas',
      message: `Invalid value: ${String(replicas)}: must be greater than or equal to 0`,
    });
  }
  const template = spec.template;
  const containers = template?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: 'spec.template.spec.containers', message: 'Required value' });
  } else {
    containers.forEach((c, i) => {
      if (!c?.name)
        causes.push({
          field: `spec.template.spec.containers[${i}].name`,
          message: 'Required value',
        });
      if (!c?.image)
        causes.push({
          field: `spec.template.spec.containers[${i}].image`,
          message: 'Required value',
        });
    });
  }
  if (selector && (selector.matchLabels || selector.matchExpressions)) {
    const labels = template?.metadata?.labels;
    if (!matchesLabels(fromLabelSelector(selector), labels)) {
      causes.push({
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\``,
      });
    }
  }
  if (old && !deepEqual(old.spec.selector, selector)) {
    causes.push({
      field: 'spec.selector',
      message: `Invalid value: ${JSON.stringify(selector)}: field is immutable`,
    });
  }
  return causes;
}
