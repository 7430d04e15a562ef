// What a job did about the workload's GitOps or Helm owner, in the words a human acts on:
// "Argo CD auto-sync is off on Application shop/checkout: revert the change in Git, then turn it
// back on: <exact command>". Owner names are Kubernetes object names; they are escaped anyway.
import type { Job } from '../model/job.js';
import type { SuspendedOwner } from '../model/owner.js';
import { section, type SlackBlock } from './block-kit.js';
import { codeSpan, escapeMrkdwn } from './escape-mrkdwn.js';

function objectText(o: SuspendedOwner): string {
  return escapeMrkdwn(`${o.object.kind} ${o.object.namespace}/${o.object.name}`);
}

/** One line per owner the job turned off (and that nobody has turned back on yet). */
export function suspendedLine(o: SuspendedOwner): string {
  const cmd = codeSpan(o.resumeCommand);
  switch (o.owner) {
    case 'argocd':
      return `Argo CD auto-sync is off on ${objectText(o)}: revert the change in Git, then turn it back on: ${cmd}`;
    case 'flux_kustomization':
      return `Flux reconciliation is off for ${objectText(o)}: revert the change in Git, then turn it back on: ${cmd}`;
    case 'flux_helmrelease':
      return `Flux ${objectText(o)} is suspended: revert the change in Git, then resume it: ${cmd}`;
  }
}

export function resumedLine(o: SuspendedOwner): string {
  switch (o.owner) {
    case 'argocd':
      return `Argo CD auto-sync is back on for ${objectText(o)}.`;
    case 'flux_kustomization':
      return `Flux reconciles ${objectText(o)} again.`;
    case 'flux_helmrelease':
      return `Flux ${objectText(o)} is no longer suspended.`;
  }
}

/** The owner block of a job's outcome message, if the job has an owner worth mentioning. */
export function ownerBlock(job: Job): SlackBlock | undefined {
  const owner = job.owner;
  if (!owner?.action) return undefined;
  const active = (owner.suspended ?? []).filter((o) => !o.resumedAt);
  if (active.length) return section(active.map(suspendedLine).join('\n'));
  const advice = owner.advice ? escapeMrkdwn(owner.advice) : undefined;
  if (owner.action === 'skipped')
    return section(`*What a human must do:* ${advice ?? 'revert the change in Git'}`);
  if (owner.action === 'noted')
    return section(`*Note:* ${escapeMrkdwn(owner.reason)}${advice ? `\n${advice}` : ''}`);
  return undefined;
}
