// Every metric in contract.md "Metrics", on a registry of our own so tests can build many apps in one
// process. Labels are bounded: trigger/executor/outcome/decision come from closed sets or config,
// never from alert text, error messages, fingerprints or job ids.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<'route' | 'code'>;
  alertsReceived: Counter<'status'>;
  decisions: Counter<'trigger' | 'confidence' | 'decision'>;
  jobs: Counter<'trigger' | 'executor' | 'outcome'>;
  jobDuration: Histogram<'trigger' | 'executor' | 'outcome'>;
  alertToAction: Histogram<'executor'>;
  queueDepth: Gauge;
  jobsInProgress: Gauge;
  paused: Gauge;
  circuitOpen: Gauge;
  lastRollback: Gauge<'namespace' | 'workload' | 'outcome'>;
  notifications: Counter<'channel' | 'outcome'>;
  verdicts: Counter<'trigger' | 'verdict'>;
  recovery: Histogram<'trigger'>;
  ownerActions: Counter<'owner' | 'action'>;
  ownersSuspended: Gauge<'owner'>;
  timeToRestore: Histogram<'cluster' | 'kind' | 'stage'>;
  permissionMissing: Gauge<'verb' | 'resource'>;
  lastRollbackInfo: Gauge<
    'namespace' | 'workload' | 'kind' | 'from_revision' | 'to_revision' | 'outcome' | 'verdict'
  >;
  lastTimeToRestore: Gauge<'namespace' | 'workload' | 'kind'>;
  /** The label set of each workload's lastRollbackInfo series (replaced, never accumulated). */
  lastRollbackRows: Map<string, Record<string, string>>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    webhookRequests: new Counter({
      name: 'rollback_webhook_requests_total',
      help: 'HTTP requests to the controller API, by route template and status code.',
      labelNames: ['route', 'code'],
      registers,
    }),
    alertsReceived: new Counter({
      name: 'rollback_alerts_received_total',
      help: 'Alerts received on the webhook, by alert status.',
      labelNames: ['status'],
      registers,
    }),
    decisions: new Counter({
      name: 'rollback_decisions_total',
      help: 'Per-alert decisions, by trigger, confidence and decision.',
      labelNames: ['trigger', 'confidence', 'decision'],
      registers,
    }),
    jobs: new Counter({
      name: 'rollback_jobs_total',
      help: 'Finished rollback jobs, by trigger, executor and outcome.',
      labelNames: ['trigger', 'executor', 'outcome'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'rollback_job_duration_seconds',
      help: 'Time from job start to finish.',
      labelNames: ['trigger', 'executor', 'outcome'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200],
      registers,
    }),
    alertToAction: new Histogram({
      name: 'rollback_alert_to_action_seconds',
      help: 'Time from alert received to patch applied or script started.',
      labelNames: ['executor'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'rollback_queue_depth',
      help: 'Jobs queued and not yet started.',
      registers,
    }),
    jobsInProgress: new Gauge({
      name: 'rollback_jobs_in_progress',
      help: 'Jobs running now.',
      registers,
    }),
    paused: new Gauge({
      name: 'rollback_paused',
      help: '1 while automatic rollbacks are paused by an operator.',
      registers,
    }),
    circuitOpen: new Gauge({
      name: 'rollback_circuit_open',
      help: '1 while the circuit breaker is open (too many rollbacks in the window).',
      registers,
    }),
    lastRollback: new Gauge({
      name: 'rollback_last_rollback_timestamp_seconds',
      help: 'Unix time of the last finished rollback per workload.',
      labelNames: ['namespace', 'workload', 'outcome'],
      registers,
    }),
    notifications: new Counter({
      name: 'rollback_notifications_total',
      help: 'Notifications sent, by channel and outcome.',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    verdicts: new Counter({
      name: 'rollback_verdicts_total',
      help: 'Verification verdicts after succeeded rollbacks.',
      labelNames: ['trigger', 'verdict'],
      registers,
    }),
    recovery: new Histogram({
      name: 'rollback_recovery_seconds',
      help: 'Time from rollback finished to the triggering alert resolved.',
      labelNames: ['trigger'],
      buckets: [30, 60, 120, 300, 600, 900, 1800, 3600],
      registers,
    }),
    ownerActions: new Counter({
      name: 'rollback_owner_actions_total',
      help: "What finished Kubernetes jobs did about the workload's GitOps or Helm owner.",
      labelNames: ['owner', 'action'],
      registers,
    }),
    ownersSuspended: new Gauge({
      name: 'rollback_owners_suspended',
      help: 'GitOps owners (Argo CD Applications, Flux objects) suspended by the controller and not yet turned back on.',
      labelNames: ['owner'],
      registers,
    }),
    timeToRestore: new Histogram({
      name: 'rollback_time_to_restore_seconds',
      help: "Time from the triggering alert's startsAt to the rollback patch (stage=patched), the workload Ready (ready) and the alert resolved (resolved).",
      labelNames: ['cluster', 'kind', 'stage'],
      buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400],
      registers,
    }),
    permissionMissing: new Gauge({
      name: 'rollback_permission_missing',
      help: "1 while the controller's identity lacks a permission an enabled feature needs (in any checked namespace).",
      labelNames: ['verb', 'resource'],
      registers,
    }),
    lastRollbackInfo: new Gauge({
      name: 'rollback_last_rollback_info',
      help: "Each workload's last rollback (one series per workload): the value is when it finished (Unix time).",
      labelNames: [
        'namespace',
        'workload',
        'kind',
        'from_revision',
        'to_revision',
        'outcome',
        'verdict',
      ],
      registers,
    }),
    lastTimeToRestore: new Gauge({
      name: 'rollback_last_time_to_restore_seconds',
      help: "Each workload's last rollback: alert startsAt to the alert resolved (recovered) or, until then, to the workload Ready.",
      labelNames: ['namespace', 'workload', 'kind'],
      registers,
    }),
    lastRollbackRows: new Map(),
  };
}
