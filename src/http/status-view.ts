// The GET /status view: what the controller runs with and what it is doing, read from the
// controller's state (the controller itself keeps only the use cases).
import type { RollbackController } from '../controller.js';

export async function statusView(c: RollbackController): Promise<Record<string, unknown>> {
  const policy = c.config.policy;
  const now = c.clock();
  return {
    version: c.version,
    startedAt: new Date(c.startedAt).toISOString(),
    uptimeSeconds: Math.round((now - c.startedAt) / 1000),
    ready: c.isReady,
    ...(c.leadership ? { leadership: c.leadership.status() } : {}),
    cluster: {
      name: c.config.cluster.name ?? null,
      label: c.config.cluster.label,
      requireLabel: c.config.cluster.requireLabel,
      apiServer: c.kubeTarget?.server ?? null,
      context: c.kubeTarget?.context ?? null,
    },
    paused: c.state.pause,
    circuit: {
      ...c.state.circuit,
      recentRollbacks: c.state.rollbacksSince(now - policy.circuitBreaker.windowSeconds * 1000),
      maxRollbacks: policy.circuitBreaker.maxRollbacks,
      windowSeconds: policy.circuitBreaker.windowSeconds,
    },
    queue: {
      depth: c.state.count('queued'),
      inProgress: c.runner.inProgress,
      concurrency: c.config.queue.concurrency,
      maxPending: c.config.queue.maxPending,
    },
    executors: await c.executorStatus(),
    ...(c.permissions
      ? { permissions: { ...c.permissions.report, summary: c.permissions.summary } }
      : {}),
    suspendedOwners: c.owners.index.list().map((e) => ({
      owner: e.owner.owner,
      object: `${e.owner.object.kind} ${e.owner.object.namespace}/${e.owner.object.name}`,
      role: e.owner.role,
      change: e.owner.change,
      suspendedAt: e.owner.suspendedAt,
      resumeCommand: e.owner.resumeCommand,
      jobId: e.jobId,
      ...(e.target ? { target: `${e.target.kind} ${e.target.namespace}/${e.target.name}` } : {}),
    })),
    notifications: {
      slack: c.notificationsEnabled ? 'enabled' : 'disabled (SLACK_WEBHOOK_URL not set)',
    },
    journal: {
      path: c.journal.path,
      bytes: c.journal.bytes,
      records: c.journal.records,
      lastError: c.journal.lastError ?? null,
    },
    policy,
    rules: c.rules.map((r) => ({
      name: r.name,
      alert: r.alert,
      matchers: r.matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`),
      trigger: r.trigger,
      confidence: r.confidence,
      autoRollback: r.autoRollback,
      action: r.script ? `script ${r.script.path}` : 'kubernetes rollout undo',
    })),
  };
}
