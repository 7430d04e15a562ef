// Formatting shared by the job messages. Everything that came from an alert (labels,
// annotations, URLs, names) is escaped here, so the per-stage builders only assemble blocks.
import type { Job } from '../model/job.js';
import type { WorkloadRef } from '../model/workload-ref.js';
import { context, fields, section, type SlackBlock } from './block-kit.js';
import { codeSpan, escapeMrkdwn } from './escape-mrkdwn.js';

/** Longest single value we show (an image reference, a label value, a reason). */
const MAX_VALUE = 300;
const MAX_LABELS = 12;

export function clip(text: string, max = MAX_VALUE): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Escaped, clipped alert text. */
export function esc(text: string, max = MAX_VALUE): string {
  return escapeMrkdwn(clip(text, max));
}

/** `Deployment prod/api`, or the script path for script jobs. Escaped. */
export function targetText(job: Pick<Job, 'target' | 'script'>): string {
  if (job.target) return workloadText(job.target);
  if (job.script) return `script ${esc(job.script.path)}`;
  return 'no target';
}

export function workloadText(target: WorkloadRef): string {
  return `${esc(target.kind, 40)} ${esc(target.namespace, 80)}/${esc(target.name, 120)}`;
}

export function revisionText(job: Pick<Job, 'fromRevision' | 'toRevision'>): string | undefined {
  if (job.fromRevision === undefined && job.toRevision === undefined) return undefined;
  return `${job.fromRevision ?? '?'} → ${job.toRevision ?? '?'}`;
}

/** One line per container whose image changes: `api`: `repo:v2` → `repo:v1`. */
export function imageLines(job: Pick<Job, 'images'>): string | undefined {
  if (!job.images?.length) return undefined;
  return job.images
    .map((c) => `• ${codeSpan(clip(c.container, 63))}: ${imageRef(c.from)} → ${imageRef(c.to)}`)
    .join('\n');
}

function imageRef(image: string | null): string {
  return image === null ? '_none_' : codeSpan(clip(image));
}

/** The facts every job message starts with, plus stage-specific ones. */
export function jobFields(
  job: Job,
  extra: Array<[string, string | undefined]> = [],
): SlackBlock | undefined {
  return fields([
    ['Alert', esc(job.alert.alertname, 200)],
    ['Trigger', esc(job.trigger, 100)],
    ['Confidence', esc(job.confidence, 20)],
    ['Target', targetText(job)],
    ...extra,
  ]);
}

/** `summary`/`description` annotation, when the alert has one. */
export function summaryBlock(job: Job): SlackBlock | undefined {
  const summary = job.alert.annotations['summary'] ?? job.alert.annotations['description'];
  return summary ? section(`>${esc(summary, 1000).replace(/\n/g, '\n>')}`) : undefined;
}

/**
 * A URL from an alert as a Slack link, or undefined when it is not plain http(s). Parsing and
 * re-serialising percent-encodes `<`, `>`, spaces and quotes; `|` would end the URL part of the
 * link, so it is encoded too, and `&` becomes the entity Slack expects. With `showHost`, the text
 * names where the link goes, for URLs that whoever writes alert rules controls.
 */
export function safeLink(
  url: string | undefined,
  label: string,
  showHost = false,
): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (parsed.href.length > 2000) return undefined;
  const href = parsed.href.replace(/\|/g, '%7C').replace(/&/g, '&amp;');
  const text = showHost ? `${label} (${parsed.host})` : label;
  return `<${href}|${escapeMrkdwn(text)}>`;
}

/** Links to where the alert came from (Prometheus graph, Alertmanager, runbook). */
export function alertLinks(alert: {
  generatorURL?: string;
  externalURL?: string;
  annotations?: Record<string, string>;
}): SlackBlock | undefined {
  const links = [
    safeLink(alert.generatorURL, 'Alert source'),
    safeLink(alert.externalURL, 'Alertmanager'),
    // An annotation: anyone who may write alerting rules picks it. Only http(s), host shown.
    safeLink(alert.annotations?.['runbook_url'], 'Runbook', true),
  ].filter((l): l is string => l !== undefined);
  return links.length ? context([links.join('  ·  ')]) : undefined;
}

/** `key=value` for the labels that are not already shown, escaped so a label cannot inject. */
export function labelsText(labels: Record<string, string>): string | undefined {
  const entries = Object.entries(labels).filter(([k]) => k !== 'alertname');
  if (!entries.length) return undefined;
  const shown = entries
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, MAX_LABELS)
    .map(([k, v]) => `${esc(k, 60)}=${esc(v, 120)}`);
  const more = entries.length > MAX_LABELS ? ` (+${entries.length - MAX_LABELS} more)` : '';
  return `Labels: ${shown.join(', ')}${more}`;
}

/** Small print: job id, attached alerts, labels. */
export function jobContext(job: Job): SlackBlock | undefined {
  const attached = job.coalesced.length
    ? `+${job.coalesced.length} more alert${job.coalesced.length === 1 ? '' : 's'} attached`
    : undefined;
  return context([`Job ${codeSpan(job.id)}`, attached, labelsText(job.alert.labels)]);
}

/** `1h 2m`, `3m 5s`, `42s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

/** From start (or creation) to finish, when both are known. */
export function jobDurationMs(
  job: Pick<Job, 'startedAt' | 'createdAt' | 'finishedAt'>,
): number | undefined {
  if (!job.finishedAt) return undefined;
  const end = Date.parse(job.finishedAt);
  const start = Date.parse(job.startedAt ?? job.createdAt);
  return Number.isFinite(end) && Number.isFinite(start) ? end - start : undefined;
}

/** Slack renders `<!date^…>` in the reader's time zone; the ISO text is the fallback. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return esc(iso, 40);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

/** One-line summary used in the fallback text: `CriticalErrorRate → Deployment prod/api`. */
export function jobSummary(job: Job): string {
  return `${esc(job.alert.alertname, 200)} → ${targetText(job)}`;
}
