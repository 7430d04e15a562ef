// contract.md "Rules": the shipped example rules, as the contract states them.
export const SPEC_RULES = [
  ['CriticalErrorRate', 'error_rate_threshold', 'high', true],
  ['CriticalP95Latency', 'latency_degradation', 'high', true],
  ['MitaSystemUnhealthy', 'health_check_failure', 'high', true],
  ['MitaDatabaseConnectionIssues', 'database_error', 'medium', true],
  ['TransactionProcessingFailure', 'database_error', 'medium', true],
  ['RedisConnectionFailure', 'database_error', 'medium', true],
  ['UserRegistrationDown', 'error_rate_threshold', 'medium', true],
] as const;
