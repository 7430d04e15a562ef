// The JSON document behind ROLLBACK_ALERT_FILE. Written pretty-printed (two-space indent, one
// key per line) so a shell script without jq can read single values line by line; that layout
// is part of the contract in rollback-scripts/README.md.
import type { Job } from '../../model/job.js';
import { scriptTarget } from './build-script-env.js';

export interface AlertDocument {
  version: 1;
  jobId: string;
  trigger: string;
  confidence: string;
  dryRun: boolean;
  target: { kind: string; namespace: string; name: string };
  fromRevision?: number;
  toRevision?: number;
  alert: {
    alertname: string;
    fingerprint: string;
    startsAt: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    generatorURL: string;
    externalURL: string;
  };
}

export function buildAlertDocument(job: Job, dryRun: boolean): AlertDocument {
  const { alert } = job;
  return {
    version: 1,
    jobId: job.id,
    trigger: job.trigger,
    confidence: job.confidence,
    dryRun,
    target: scriptTarget(job),
    ...(job.fromRevision !== undefined ? { fromRevision: job.fromRevision } : {}),
    ...(job.toRevision !== undefined ? { toRevision: job.toRevision } : {}),
    alert: {
      alertname: alert.alertname,
      fingerprint: alert.fingerprint,
      startsAt: alert.startsAt,
      labels: alert.labels,
      annotations: alert.annotations,
      generatorURL: alert.generatorURL,
      externalURL: alert.externalURL,
    },
  };
}

export function serializeAlertDocument(doc: AlertDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
