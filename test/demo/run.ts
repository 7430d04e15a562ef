// `npm run demo`: the whole loop on one machine, in under a minute. A fake Kubernetes cluster
// where shop/checkout has a good revision (v1) and a bad one (v2), the controller (in this
// process, real HTTP on 127.0.0.1), a local Slack sink, and a real Alertmanager when
// `prometheus-alertmanager` is on PATH. A critical CriticalErrorRate alert fires; the demo shows
// the rollback, the Slack messages, the job timeline and the rollback_ metrics, then cleans up
// every process and temp dir and exits 0 (1 on any failure, or after DEMO_TIMEOUT_MS).
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/app.js';
import type { Job } from '../../src/model/job.js';
import { alert, payload } from '../support/alerts.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startSlackSink, type SlackSink } from '../support/slack-sink.js';
import { alertmanagerOnPath, startAlertmanager, type RunningAlertmanager } from './alertmanager.js';
import { freePort } from './free-port.js';
import { renderSlackMessage } from './render-slack.js';
import { clock, note, quote, say, section, table } from './terminal.js';

const DEMO_TIMEOUT_MS = 55_000;
/** `npm run demo -- --keep`: leave the temp dir (controller log, journal) for a look afterwards. */
const KEEP = process.argv.includes('--keep');
const NS = 'shop';
const NAME = 'checkout';
const IMAGE = 'registry.example.com/shop/checkout';
const USER = 'alertmanager';
const TERMINAL = new Set(['succeeded', 'failed', 'skipped', 'expired']);

// Fast enough for a demo: rollout status every 200 ms, Slack progress at most every second.
const CONFIG = `
rollout: { pollIntervalSeconds: 0.2 }
slack: { channel: '#deploys', progressIntervalSeconds: 1 }
`;

const cleanups: Array<{ what: string; run: () => Promise<void> | void }> = [];
/** The controller's log file, printed when the demo fails (the temp dir goes away after). */
let controllerLog: string | undefined;

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function printRevisions(fake: FakeKube): void {
  const deployment = fake.get('Deployment', NS, NAME);
  const owned = fake
    .list('ReplicaSet', NS)
    .filter((rs) =>
      rs.metadata.ownerReferences?.some((o: { uid: string }) => o.uid === deployment.metadata.uid),
    )
    .map((rs) => ({
      revision: Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0),
      image: String(rs.spec.template.spec.containers[0].image),
      pods: `${rs.status?.readyReplicas ?? 0}/${rs.spec.replicas ?? 0}`,
      name: String(rs.metadata.name),
    }))
    .sort((a, b) => a.revision - b.revision);
  const current = Math.max(...owned.map((r) => r.revision));
  table([
    ['revision', 'image', 'ready pods', 'ReplicaSet', ''],
    ...owned.map((r) => [
      String(r.revision),
      r.image,
      r.pods,
      r.name,
      r.revision === current ? '← current' : '',
    ]),
  ]);
  say(`Deployment ${NS}/${NAME} runs ${deployment.spec.template.spec.containers[0].image}`);
}

function printSlack(sink: SlackSink): void {
  if (sink.messages.length === 0) {
    say('(no messages)');
    return;
  }
  sink.messages.forEach((m, i) => {
    if (i > 0) say();
    note(`message ${i + 1} of ${sink.messages.length}, received ${clock(m.receivedAt)}`);
    quote(renderSlackMessage(m.body));
  });
}

function printTimeline(job: Job): void {
  table([
    ['time (UTC)', 'event', 'what happened'],
    ...job.timeline.map((t) => [clock(t.at), t.event, t.message]),
  ]);
  say();
  const images = (job.images ?? []).map((i) => `${i.container}: ${i.from} → ${i.to}`).join(', ');
  const duration =
    job.startedAt && job.finishedAt
      ? `${((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000).toFixed(1)} s`
      : '—';
  const toAction = job.actedAt ? `${Date.parse(job.actedAt) - job.alert.receivedAt} ms` : '—';
  table([
    ['job', job.id],
    ['target', `${job.target?.kind ?? ''} ${job.targetKey.split('/').slice(1).join('/')}`],
    ['trigger', `${job.trigger} (confidence ${job.confidence}, rule ${job.rule})`],
    ['revision', `${job.fromRevision ?? '?'} → ${job.toRevision ?? '?'}`],
    ['images', images || '—'],
    ['outcome', `${job.outcome ?? job.state}: ${job.reason ?? ''}`],
    ['alert → patch', toAction],
    ['rollout took', duration],
    [
      'verdict',
      `${job.verdict ?? '—'}${job.recoverySeconds !== undefined ? ` (${job.recoverySeconds.toFixed(1)} s after the rollback)` : ''}`,
    ],
  ]);
}

function printMetrics(text: string): void {
  const rows = text
    .split('\n')
    .filter((l) => l.startsWith('rollback_') && !l.includes('_bucket{'))
    .map((l) => {
      const cut = l.lastIndexOf(' ');
      return [l.slice(0, cut), l.slice(cut + 1)];
    });
  table([['series', 'value'], ...rows]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-demo-'));
  if (!KEEP)
    cleanups.push({
      what: `temp dir ${dir}`,
      run: () => rmSync(dir, { recursive: true, force: true }),
    });
  const started = Date.now();

  section(`A cluster where ${NS}/${NAME} just got a bad deploy`);
  const fake = await startFakeKube({ rolloutStepMs: 100 });
  cleanups.push({ what: 'fake cluster', run: () => fake.close() });
  await fake.createDeployment(NS, NAME, { image: `${IMAGE}:v1`, replicas: 3 });
  await fake.settle();
  await fake.setImage('Deployment', NS, NAME, `${IMAGE}:v2`);
  await fake.settle();
  note(`fake Kubernetes API server at ${fake.url}, simulated Deployment controller`);
  printRevisions(fake);

  const sink = await startSlackSink();
  cleanups.push({ what: 'Slack sink', run: () => sink.close() });

  section('The rollback controller');
  const secret = randomBytes(24).toString('base64url');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = (controllerLog = join(dir, 'controller.log'));
  const logStream = createWriteStream(logFile);
  let running: RunningServer;
  try {
    running = await startServer({
      port,
      host: '127.0.0.1',
      configText: CONFIG,
      logDestination: logStream,
      env: {
        ROLLBACK_WEBHOOK_SECRET: secret,
        ROLLBACK_DATA_DIR: join(dir, 'data'),
        KUBECONFIG: fake.kubeconfigPath,
        SLACK_WEBHOOK_URL: sink.url,
        ROLLBACK_EXTERNAL_URL: url,
        PORT: String(port),
        HOME: dir,
      },
    });
  } catch (err) {
    logStream.end();
    throw err;
  }
  cleanups.push({
    what: 'controller',
    run: async () => {
      await running.close();
      await new Promise<void>((ok) => logStream.end(() => ok()));
    },
  });
  const auth = `Basic ${Buffer.from(`${USER}:${secret}`).toString('base64')}`;
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: auth, 'content-type': 'application/json' },
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks: Record<string, string> };
  say(`listening on ${url}  (webhook user "${USER}", a freshly generated secret)`);
  say(`Kubernetes: ${ready.checks['kubernetes']}; Slack: the local sink; journal in a temp dir`);
  say('rule: CriticalErrorRate → trigger error_rate_threshold, confidence high, auto rollback');
  note(
    KEEP
      ? `controller log: ${logFile} (kept after the demo)`
      : 'controller log: in the temp dir, removed at the end (npm run demo -- --keep keeps it)',
  );

  section('A critical CriticalErrorRate alert fires');
  const startsAt = new Date().toISOString();
  const labels = {
    alertname: 'CriticalErrorRate',
    severity: 'critical',
    namespace: NS,
    deployment: NAME,
  };
  const annotations = {
    summary: 'checkout 5xx rate above 5% for 2 minutes',
    description: 'Error rate 12.4% (threshold 5%) since the v2 deploy',
  };
  const generatorURL = 'http://prometheus.example:9090/graph?g0.expr=job%3Ahttp_errors%3Arate5m';
  let am: RunningAlertmanager | undefined;
  let resolve: () => Promise<void>;
  if (alertmanagerOnPath()) {
    am = await startAlertmanager({
      dir,
      webhookUrl: `${url}/api/admin/rollback/trigger`,
      user: USER,
      secret,
    });
    const running = am;
    cleanups.push({ what: 'Alertmanager', run: () => running.stop() });
    say(`Alertmanager ${am.version} at ${am.url}: webhook receiver → the controller, basic_auth`);
    say('(password_file), group_wait 1s, send_resolved: true');
    const firing = { labels, annotations, startsAt, generatorURL };
    await am.postAlerts([firing]);
    say(`POST ${am.url}/api/v2/alerts  ${labelText(labels)}`);
    note('waiting for Alertmanager to notify the controller…');
    resolve = () => running.postAlerts([{ ...firing, endsAt: new Date().toISOString() }]);
  } else {
    say('prometheus-alertmanager is not on PATH: sending the Alertmanager webhook directly');
    const a = alert({ alertname: labels.alertname, labels, startsAt });
    const r = await api('/api/admin/rollback/trigger', {
      method: 'POST',
      body: JSON.stringify(payload([a])),
    });
    say(`POST /api/admin/rollback/trigger  ${labelText(labels)} → ${r.status}`);
    resolve = async () => {
      const resolved = { ...a, status: 'resolved', endsAt: new Date().toISOString() };
      await api('/api/admin/rollback/trigger', {
        method: 'POST',
        body: JSON.stringify(payload([resolved])),
      });
    };
  }
  const first = await until('the controller to create a job', 20_000, async () => {
    const jobs = (await api('/api/admin/rollback/jobs')).body.jobs as Job[];
    return jobs[0];
  });
  say(`decision: queued → job ${first.id} (${first.timeline[0]?.message ?? ''})`);

  section('The rollback');
  let lastState = '';
  let lastProgress = '';
  const job = await until('the job to finish', 30_000, async () => {
    const j = (await api(`/api/admin/rollback/jobs/${first.id}`)).body as Job;
    const progress = [...j.timeline].reverse().find((t) => t.event === 'progress')?.message;
    if (progress && progress !== lastProgress) {
      lastProgress = progress;
      say(`${clock(Date.now())}  rollout: ${progress}`);
    }
    if (j.state !== lastState) {
      lastState = j.state;
      const revisions =
        j.state === 'running' && j.fromRevision !== undefined && j.toRevision !== undefined
          ? `: revision ${j.fromRevision} → ${j.toRevision}`
          : '';
      say(`${clock(Date.now())}  job ${j.state}${revisions}`);
    }
    return TERMINAL.has(j.state) ? j : undefined;
  });
  say(`outcome: ${job.outcome} — ${job.reason ?? ''}`);
  await fake.settle();
  say();
  printRevisions(fake);
  const image = fake.get('Deployment', NS, NAME).spec.template.spec.containers[0].image as string;
  if (job.outcome !== 'succeeded' || image !== `${IMAGE}:v1`) {
    throw new Error(`expected a successful rollback to v1, got ${job.outcome} and ${image}`);
  }
  say(`✔ rolled back: ${IMAGE}:v2 → ${IMAGE}:v1`);

  section('The alert resolves: verification');
  await resolve();
  say(
    am
      ? 'the alert ended in Alertmanager (endsAt now); it sends the resolved notification'
      : 'sent the resolved notification',
  );
  const verdict = await until('the verification verdict', 15_000, async () => {
    const j = (await api(`/api/admin/rollback/jobs/${first.id}`)).body as Job;
    return j.verdict && j.verdict !== 'pending' ? j : undefined;
  }).catch(() => undefined);
  say(
    verdict
      ? `verdict: ${verdict.verdict}, ${verdict.recoverySeconds?.toFixed(1) ?? '?'} s after the rollback finished`
      : 'no verdict yet (the verification window is still open)',
  );

  // Slack posts are asynchronous: wait until the channel has been quiet for a moment.
  let seen = -1;
  const quietBy = Date.now() + 5000;
  while (seen !== sink.messages.length && Date.now() < quietBy) {
    seen = sink.messages.length;
    await sleep(600);
  }
  section(`Slack: ${sink.messages.length} messages posted to the deployment channel`);
  printSlack(sink);

  section(`Job timeline (GET /api/admin/rollback/jobs/${first.id})`);
  printTimeline((await api(`/api/admin/rollback/jobs/${first.id}`)).body as Job);

  section('Metrics (GET /metrics, rollback_* series, histogram buckets left out)');
  printMetrics(await (await fetch(`${url}/metrics`)).text());

  section('Done');
  const stopped = cleanups.map((c) => c.what).reverse();
  await cleanUp();
  say(`rollback demonstrated in ${((Date.now() - started) / 1000).toFixed(1)} s;`);
  say(`stopped and removed: ${stopped.join(', ')}.`);
  if (KEEP) say(`kept: ${dir} (controller.log, data/journal.jsonl)`);
}

function labelText(labels: Record<string, string>): string {
  const { alertname, ...rest } = labels;
  return `${alertname}{${Object.entries(rest)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`;
}

/** Stops everything started so far, newest first (Alertmanager before the controller). */
async function cleanUp(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    try {
      await c.run();
    } catch (err) {
      process.stderr.write(`demo: stopping the ${c.what} failed: ${(err as Error).message}\n`);
    }
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write(`\ndemo: did not finish within ${DEMO_TIMEOUT_MS / 1000} s\n`);
  void cleanUp().finally(() => process.exit(1));
}, DEMO_TIMEOUT_MS);

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  process.stderr.write(`\ndemo failed: ${(err as Error).stack ?? String(err)}\n`);
  if (controllerLog)
    process.stderr.write(`controller log (last lines):\n${logTail(controllerLog)}\n`);
  await cleanUp();
}
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
