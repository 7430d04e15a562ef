// The shipped example rules for critical alerts (contract.md "Rules"). Targets use the schema's default
// template: kind from the `kind` label (else Deployment), namespace from `namespace`, name from
// `deployment` else `service`.
import type { ConfigInput } from './schema.js';

type RuleInput = NonNullable<ConfigInput['rules']>[number];

export const DEFAULT_RULES: readonly RuleInput[] = [
  {
    alert: 'CriticalErrorRate',
    trigger: 'error_rate_threshold',
    confidence: 'high',
    autoRollback: true,
  },
  {
    alert: 'CriticalP95Latency',
    trigger: 'latency_degradation',
    confidence: 'high',
    autoRollback: true,
  },
  {
    alert: 'MitaSystemUnhealthy',
    trigger: 'health_check_failure',
    confidence: 'high',
    autoRollback: true,
  },
  {
    alert: 'MitaDatabaseConnectionIssues',
    trigger: 'database_error',
    confidence: 'medium',
    autoRollback: true,
  },
  {
    alert: 'TransactionProcessingFailure',
    trigger: 'database_error',
    confidence: 'medium',
    autoRollback: true,
  },
  {
    alert: 'RedisConnectionFailure',
    trigger: 'database_error',
    confidence: 'medium',
    autoRollback: true,
  },
  {
    alert: 'UserRegistrationDown',
    trigger: 'error_rate_threshold',
    confidence: 'medium',
    autoRollback: true,
  },
];
