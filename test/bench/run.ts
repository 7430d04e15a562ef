// `npm run bench`: builds the controller, measures it in its own process on this machine and
// prints one markdown table (figure, target, measured, pass/miss) plus the machine.
//
//   npm run bench                     the whole run (about five minutes)
//   npm run bench -- --duration=10    longer webhook loads (default 5 s each)
//   npm run bench -- --profile        also CPU-profile the controller in each section and print
//                                     what dominates (profiles kept for Chrome DevTools)
//   npm run bench -- --no-build       use dist/ as it is
//   npm run bench -- --no-real-cluster   skip the real control plane section (it needs Go; the
//                                     first run builds Kubernetes: test/cluster/)
//   npm run bench -- --node-flags=--max-old-space-size=128
//                                     extra node flags for every controller process
//   npm run bench -- --only=replay    only the restart cost: a journal at the chart's compaction
//                                     threshold replayed under the chart's heap cap
//   npm run bench -- --only=watch-cache   only the watch cache's memory: 1,000 Deployments × 10
//                                     ReplicaSets on the real control plane (several minutes)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measureAlertToPatch } from './alert-to-patch.js';
import { MAIN } from './controller-process.js';
import { summarizeProfile } from './profile-summary.js';
import { machine, markdownTable, mb, ms, percentile, rate, type Row } from './report.js';
import { measureRealCluster, type RealClusterResult } from './real-cluster.js';
import { measureStartup } from './startup.js';
import { runStorm } from './storm.js';
import { measureReplay, type ReplayResult } from './journal-replay.js';
import { chartMemory } from '../support/chart-memory.js';
import { measureWebhook } from './webhook-load.js';
import { measureWatchCacheMemory, type WatchCacheMemory } from './watch-cache-memory.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const durationS = Number(option('duration') ?? 5);
const latencySamples = Number(option('samples') ?? 200);
/** The fake cluster's rollout step during the storm: see the note printed with the table. */
const STORM_STEP_MS = 50;

const log = (line: string) => process.stdout.write(`… ${line}\n`);

const profileRoot = flag('profile') ? mkdtempSync(join(tmpdir(), 'rc-bench-profiles-')) : '';
const nodeFlags = (option('node-flags') ?? '').split(' ').filter(Boolean);
/** Node flags for the controller of one section: `--node-flags`, plus a CPU profile if asked. */
const profiled = (name: string): string[] => {
  if (!profileRoot) return nodeFlags;
  const dir = join(profileRoot, name);
  mkdirSync(dir, { recursive: true });
  return [...nodeFlags, '--cpu-prof', `--cpu-prof-dir=${dir}`];
};

function build(): void {
  if (flag('no-build')) return;
  log('npm run build');
  const root = resolve(import.meta.dirname, '../..');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    // tsc still emits on type errors; a half-edited tree elsewhere should not stop the bench.
    if (!existsSync(MAIN)) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
    log(`build reported errors, measuring what it emitted:\n${r.stdout.slice(0, 800)}`);
  }
}

function printProfiles(): void {
  if (!profileRoot) return;
  console.log(`\n## Controller CPU profiles (${profileRoot})\n`);
  for (const section of readdirSync(profileRoot).sort()) {
    for (const file of readdirSync(join(profileRoot, section))) {
      const s = summarizeProfile(join(profileRoot, section, file), 8);
      const busy = s.totalMs - s.idleMs;
      console.log(
        `### ${section}: ${(busy / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s`,
      );
      const pct = (x: number) => `${((100 * x) / busy).toFixed(0)}%`;
      console.log(`by package: ${s.packages.map((p) => `${p.name} ${pct(p.ms)}`).join(', ')}`);
      for (const f of s.functions) console.log(`  ${pct(f.ms).padStart(4)}  ${f.name}  ${f.where}`);
      console.log('');
    }
  }
}

function replayRows(r: ReplayResult): Row[] {
  const limit = r.limitMiB * 1024 ** 2;
  return [
    {
      figure: `restart on a journal at the threshold (${mb(r.fill.bytes)}, ${r.fill.records.toLocaleString('en')} records, ${r.fill.uniqueAlerts.toLocaleString('en')} alert instances; spawn → ready)`,
      target: '—',
      measured: `${ms(r.startupMs)} (${replayedIn(r.replayLog)}; compacted to ${mb(r.compactedBytes)})`,
    },
    {
      figure: `restart peak RSS (${r.nodeFlags.join(' ') || 'no heap cap'})`,
      target: `< limit ${r.limitMiB} MiB`,
      measured: `${mb(r.peakRssBytes)} (${((100 * r.peakRssBytes) / limit).toFixed(0)}% of the limit)`,
      pass: r.peakRssBytes < limit,
    },
  ];
}

function watchCacheRows(m: WatchCacheMemory): Row[] {
  return [
    {
      figure: `idle RSS with the watch cache: ${m.deployments.toLocaleString('en')} Deployments × ${m.replicaSets / m.deployments} ReplicaSets (real control plane, ${m.cachedObjects.toLocaleString('en')} objects cached)`,
      target: '—',
      measured:
        `${mb(m.rssCached)} (peak ${mb(m.peakCached)}) vs ${mb(m.rssUncached)} without it: ` +
        `+${mb(m.rssCached - m.rssUncached)}; synced ${ms(m.syncMs)} after start`,
    },
    {
      figure: `the same under the chart's flags (${m.chartFlags.join(' ')})`,
      target: "inside the chart's limit",
      measured: Number.isNaN(m.rssChartFlags)
        ? 'did not survive the heap cap'
        : mb(m.rssChartFlags),
    },
    {
      figure:
        'the same with the default bound (watchCache.maxObjects 3,000: the cache turns itself off)',
      target: '≈ without the cache',
      measured: mb(m.rssDefaultBound),
    },
  ];
}

/** Replay time from the controller's own log: first line → "journal replayed". */
function replayedIn(log: string): string {
  const times = log
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { time: number }).time);
  return times.length >= 2
    ? `replay logged ${ms(times.at(-1)! - times[0])} after the first line`
    : 'replay';
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadNow();
  build();
  const rows: Row[] = [];
  if (option('only') === 'replay') {
    log("restart cost: journal at the chart's threshold, the chart's heap cap");
    rows.push(...replayRows(await measureReplay(nodeFlags)));
    console.log(`\n## Rollback Controller bench (restart cost)\n\nMachine: ${machine()}\n`);
    console.log(markdownTable(rows));
    return;
  }
  if (option('only') === 'watch-cache') {
    rows.push(...watchCacheRows(await measureWatchCacheMemory(1000, 10, log)));
    console.log(`\n## Rollback Controller bench (watch cache memory)\n\nMachine: ${machine()}`);
    console.log(`Load average (1/5/15 min): at start ${loadAtStart}, at end ${loadNow()}\n`);
    console.log(markdownTable(rows));
    return;
  }

  log('start-up to ready, 5 spawns; idle RSS after 2 s');
  const startup = await measureStartup(5, 2000, profiled('startup'));

  const web = await measureWebhook(durationS, profiled, log);

  log(`alert-to-patch latency, ${latencySamples} alerts one at a time, fake cluster on loopback`);
  const latency = await measureAlertToPatch(latencySamples, profiled('alert-to-patch'));

  // Under the chart's NODE_OPTIONS (heap cap and semi-space), as the controller runs in a pod.
  const chart = chartMemory();
  log(`storm: 10,000 alerts over 100 workloads, under ${chart.nodeFlags.join(' ')}`);
  const storm = await runStorm(STORM_STEP_MS, [...chart.nodeFlags, ...profiled('storm')]);
  log('storm again, uncapped (no heap flags)');
  const uncapped = await runStorm(STORM_STEP_MS, profiled('storm-uncapped'));

  log("restart cost: journal at the chart's threshold, the chart's heap cap");
  const replay = await measureReplay(nodeFlags);

  let real: RealClusterResult | string;
  let cacheMemory: WatchCacheMemory | string = 'skipped (--no-real-cluster)';
  if (flag('no-real-cluster')) real = 'skipped (--no-real-cluster)';
  else {
    log(
      'real control plane: 50 rollbacks by the controller, 25 without its watch cache, 10 by kubectl rollout undo',
    );
    real = await measureRealCluster(50, 25, 10, log).catch(
      (e: Error) => `not measured: ${e.message.split('\n')[0]}`,
    );
    log('real control plane: watch cache memory, 1,000 Deployments × 10 ReplicaSets');
    cacheMemory = await measureWatchCacheMemory(1000, 10, log).catch(
      (e: Error) => `not measured: ${e.message.split('\n')[0]}`,
    );
  }

  const { bare, unique, repeat, dryRun, intake } = web;
  const bad = (r: { bad: number }) => (r.bad ? `, ${r.bad} not 2xx/errors` : '');
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  for (const step of intake) {
    const { connections: n, controller: c, durable: d, noFsync: f } = step;
    rows.push({
      figure: `intake at ${n} conn: /trigger (unique, fsync) vs bare durable (group fdatasync) vs bare no-fsync`,
      target: n === 50 ? '≥ 0.7× bare durable' : '—',
      measured:
        `${rate(c.rps)} vs ${rate(d.rps)} vs ${rate(f.rps)}: ` +
        `${ratio(c.rps, d.rps)} durable, ${ratio(c.rps, f.rps)} no-fsync${bad(c)}`,
      ...(n === 50 ? { pass: c.rps >= 0.7 * d.rps && c.bad === 0 } : {}),
    });
  }
  const vsBare = (r: { rps: number }) => `${(bare.rps / r.rps).toFixed(1)}× below bare`;
  rows.push(
    {
      figure: 'bare node:http 202 (same machine, same body)',
      target: '—',
      measured: `${rate(bare.rps)}, p50 ${ms(bare.p50)}, p99 ${ms(bare.p99)}`,
    },
    {
      figure: '/trigger throughput, unique alerts (5/req, 50 conn, fsync)',
      target: '≥ 2,000 req/s',
      measured: `${rate(unique.rps)} (${vsBare(unique)}${bad(unique)})`,
      pass: unique.rps >= 2000 && unique.bad === 0,
    },
    {
      figure: '/trigger latency, unique alerts',
      target: 'p99 ≤ 50 ms',
      measured: `p50 ${ms(unique.p50)}, p99 ${ms(unique.p99)}`,
      pass: unique.p99 <= 50,
    },
    {
      figure: '/trigger throughput, repeated alerts (duplicate path)',
      target: '≥ 2,000 req/s',
      measured: `${rate(repeat.rps)} (${vsBare(repeat)}${bad(repeat)})`,
      pass: repeat.rps >= 2000 && repeat.bad === 0,
    },
    {
      figure: '/trigger latency, repeated alerts',
      target: 'p99 ≤ 50 ms',
      measured: `p50 ${ms(repeat.p50)}, p99 ${ms(repeat.p99)}`,
      pass: repeat.p99 <= 50,
    },
    {
      figure: '/test dry run, no cluster (50 conn)',
      target: '—',
      measured: `${rate(dryRun.rps)}, p50 ${ms(dryRun.p50)}, p99 ${ms(dryRun.p99)}${bad(dryRun)}`,
    },
  );
  const l50 = percentile(latency.samples, 50);
  const l99 = percentile(latency.samples, 99);
  const latencyOk = latency.failures.length === 0 && latency.samples.length >= latencySamples;
  rows.push(
    {
      figure: `alert-to-patch p50 (${latency.samples.length} samples)`,
      target: '≤ 20 ms',
      measured: ms(l50),
      pass: latencyOk && l50 <= 20,
    },
    {
      figure: 'alert-to-patch p99',
      target: '≤ 100 ms',
      measured: `${ms(l99)} (max ${ms(Math.max(...latency.samples))})`,
      pass: latencyOk && l99 <= 100,
    },
  );
  if (typeof real === 'string') {
    rows.push({
      figure: 'real control plane: alert-to-patch vs kubectl rollout undo',
      target: '—',
      measured: real,
    });
  } else {
    const c50 = percentile(real.controller, 50);
    const c99 = percentile(real.controller, 99);
    const k50 = percentile(real.kubectl, 50);
    const realOk = real.failures.length === 0 && real.controller.length >= 50;
    rows.push(
      {
        figure: `real control plane: alert-to-patch (${real.controller.length} rollbacks)`,
        target: '—',
        measured: `p50 ${ms(c50)}, p99 ${ms(c99)}${realOk ? '' : ` (failures: ${real.failures.join('; ')})`}`,
        ...(realOk ? {} : { pass: false }),
      },
      {
        figure: `real control plane: alert-to-patch without the watch cache (${real.uncached.length} rollbacks)`,
        target: '—',
        measured: `p50 ${ms(percentile(real.uncached, 50))}, p99 ${ms(percentile(real.uncached, 99))}`,
      },
      {
        figure: `real control plane: kubectl rollout undo wall time (${real.kubectl.length} runs)`,
        target: '—',
        measured: `p50 ${ms(k50)}, p99 ${ms(percentile(real.kubectl, 99))}`,
      },
      {
        figure: 'real control plane: alert-to-patch ÷ kubectl undo (p50)',
        target: '≤ 0.1×',
        measured: `${(c50 / k50).toFixed(2)}× (kubectl takes ${(k50 / c50).toFixed(1)}× as long)`,
        pass: realOk && c50 / k50 <= 0.1,
      },
      {
        figure: 'real control plane: alert-to-patch p99 ÷ p50',
        target: '≤ 2×',
        measured: `${(c99 / c50).toFixed(1)}×`,
        pass: realOk && c99 <= 2 * c50,
      },
    );
  }
  const d = storm.decisions;
  rows.push(
    {
      figure: `storm wall time (10,000 alerts, 100 workloads → all jobs done; ${chart.nodeFlags.join(' ')})`,
      target: '≤ 10 s',
      measured:
        `${(storm.wallMs / 1000).toFixed(1)} s (202s after ${(storm.ingestMs / 1000).toFixed(1)} s; ` +
        `CPU: controller ${(storm.controllerCpuMs / 1000).toFixed(1)} s, ` +
        `load generator + fake ${(storm.harnessCpuMs / 1000).toFixed(1)} s)`,
      pass: storm.wallMs <= 10_000 && storm.non202 === 0,
    },
    {
      figure: 'storm rollbacks',
      target: 'exactly 100',
      measured:
        `${storm.patches} patches on ${storm.workloadsRolledBack} workloads, ` +
        `${storm.succeededJobs} succeeded, ${storm.backOnV1} back on v1`,
      pass:
        storm.patches === 100 &&
        storm.workloadsRolledBack === 100 &&
        storm.succeededJobs === 100 &&
        storm.backOnV1 === 100,
    },
    {
      figure: "storm peak RSS of the controller (the chart's flags)",
      target: `inside the chart's limit (${chart.limitMiB} MiB)`,
      measured: mb(storm.peakRssBytes),
      pass: storm.peakRssBytes <= chart.limitMiB * 1024 ** 2,
    },
    {
      figure: "storm uncapped (no heap flags) vs under the chart's flags",
      target: 'chart ≤ 1.2× uncapped wall',
      measured:
        `uncapped ${(uncapped.wallMs / 1000).toFixed(1)} s, CPU ${(uncapped.controllerCpuMs / 1000).toFixed(1)} s, ` +
        `peak RSS ${mb(uncapped.peakRssBytes)}; chart ÷ uncapped wall ${ratio(storm.wallMs, uncapped.wallMs)}, ` +
        `CPU ${ratio(storm.controllerCpuMs, uncapped.controllerCpuMs)}`,
      pass: storm.wallMs <= 1.2 * uncapped.wallMs && uncapped.patches === 100,
    },
    {
      figure: 'start-up to ready (spawn → /readyz 200, median of 5)',
      target: '< 1 s',
      measured: `${ms(percentile(startup.startupsMs, 50))} (max ${ms(Math.max(...startup.startupsMs))})`,
      pass: percentile(startup.startupsMs, 50) < 1000,
    },
    {
      figure: 'idle RSS (default config, no cluster)',
      target: '≤ 110 MiB',
      measured: mb(startup.idleRssBytes),
      pass: startup.idleRssBytes <= 110 * 1024 ** 2,
    },
  );

  rows.push(...replayRows(replay));
  if (typeof cacheMemory === 'string')
    rows.push({
      figure: 'watch cache memory (real control plane)',
      target: '—',
      measured: cacheMemory,
    });
  else rows.push(...watchCacheRows(cacheMemory));

  console.log(`\n## Rollback Controller bench\n`);
  console.log(`Machine: ${machine()}`);
  console.log(`Load average (1/5/15 min): at start ${loadAtStart}, at end ${loadNow()}\n`);
  console.log(markdownTable(rows));
  console.log(`
Notes
- Controller: \`node ${[...nodeFlags, 'dist/main.js'].join(' ')}\` in its own process, logs at info to a file, journal fsync on,
  fresh data dir per run; autocannon ${durationS} s runs at 50 connections unless the row says.
- Intake: at each connection count, /trigger with unique alerts, then a bare node:http webhook
  that appends each body to a file and answers after a group-committed fdatasync (the same
  promise as the controller's journal), then the same without fdatasync; ratios are
  controller ÷ bare (1.00× = as fast as a server that does nothing but write the body down).
- /trigger rule has autoRollback: false, so alerts are decided notify_only (no queue, no
  cluster). Unique: every alert has a fresh fingerprint (decision + dedup key journaled; journal
  ${mb(unique.journalBytes)} after the run, controller peak RSS ${mb(unique.peakRssBytes)}).
  Repeated: one body over and over, every alert after the first is a duplicate.
- Alert-to-patch: one Deployment, a new bad image deployed before each alert, the next alert
  only after the previous job finished; timed from sending the POST to the fake API server
  receiving the template PATCH.${latency.failures.length ? ` Failures: ${latency.failures.join('; ')}` : ''}
- Storm: 1,000 notifications × 10 alerts over 20 connections, each of the 100 Deployments in its
  own namespace; queue concurrency 16, rollout poll 50 ms, circuit breaker raised; the fake
  cluster (same process as the load generator) steps rollouts every ${STORM_STEP_MS} ms.
  Decisions: ${Object.entries(d)
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ', ',
    )}${storm.non202 ? `; ${storm.non202} answers were not 202` : ''}; journal ${mb(storm.journalBytes)} after it.
- Real control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler built
  from source (test/cluster/build-control-plane.sh) with simulated kubelets (pods Ready after
  50 ms); one Deployment, a new bad image rolled out before each alert; the controller sample is
  alert POST sent → the API server finished the template PATCH (audit log stageTimestamp); the
  kubectl sample is the wall time of \`kubectl rollout undo\` (spawn to exit, warm discovery
  cache) against the same API server, each after a new bad image rolled out.
- Total bench time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  printProfiles();
}

function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

await main();
