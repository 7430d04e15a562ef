import type { JobNotifier } from '../model/job-notifier.js';

/**
 * Several notifiers as one (Slack, then PagerDuty): each hears every call. `enabled` and the
 * listeners are the first one's (Slack's), which /status and the job's timeline describe.
 */
export function fanOutNotifier(first: JobNotifier, ...rest: JobNotifier[]): JobNotifier {
  if (!rest.length) return first;
  const all = [first, ...rest];
  return {
    enabled: first.enabled,
    ...(first.onSent ? { onSent: first.onSent.bind(first) } : {}),
    ...(first.onPosted ? { onPosted: first.onPosted.bind(first) } : {}),
    ...(first.onPosting ? { onPosting: first.onPosting.bind(first) } : {}),
    job: (job, stage, opts) => all.forEach((n) => n.job(job, stage, opts)),
    decision: (notice, opts) => all.forEach((n) => n.decision(notice, opts)),
    killSwitch: (notice) => all.forEach((n) => n.killSwitch?.(notice)),
    flush: async (ms) => void (await Promise.all(all.map((n) => n.flush(ms)))),
  };
}
