// The shipped example rules for critical alerts, to adapt to a team's own alerts (contract.md "Rules"). Targets use the schema's default
// template: kind from the `kind` label (else Deployment), namespace from `namespace`, name from
// `deployment` else `service`.
import type { ConfigInput } from './schema.js';

type RuleInput = NonNullable<ConfigInput['rules']>[number];

// Only critical alerts roll back: a warning-level alert of the same name never acts.
const CRITICAL = ['severity="critical"'];

export const DEFAULT_RULES: readonly RuleInput[] = [
  {
    alert: 'CriticalErrorRate',
    trigger: 'error_rate_threshold',
    confidence: 'high',
    autoRollback: true,
    matchers: CRITICAL,
  },
  {
    alert: 'CriticalP95Latency',
    trigger: 'latency_degradation',
    confidence: 'high',
    autoRollback: true,
    matchers: CRITICAL,
  },
  {
    alert: 'MitaSystemUnhealthy',
    trigger: 'health_check_failure',
    confidence: 'high',
    autoRollback: true,
    matchers: CRITICAL,
  },
  {
    alert: 'MitaDatabaseConnectionIssues',
    trigger: 'database_error',
    confidence: 'medium',
    autoRollback: true,
    matchers: CRITICAL,
  },
  {
    alert: 'TransactionProcessingFailure',
    trigger: 'database_error',
    confidence: 'medium',
    autoRollback: true,
    matchers: CRITICAL,
  },
  {
    alert: 'RedisConnectionFailure',
    trigger: 'database_error',
    confidence: 'medium',
    autoRollback: true,
    matchers: CRITICAL,
  },
  {
    alert: 'UserRegistrationDown',
    trigger: 'error_rate_threshold',
    confidence: 'medium',
    autoRollback: true,
    matchers: CRITICAL,
  },
];
