// The script executor against real bash scripts (test/fixtures/scripts), copied into a private
// scripts directory per run so modes and symlinks are exactly what each case needs.
import { strict as assert } from 'node:assert';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import {
  buildAlertDocument,
  serializeAlertDocument,
} from '../../src/executors/script/build-alert-document.js';
import {
  RECOVER_REASON,
  createScriptExecutor,
  type ScriptExecutorOptions,
} from '../../src/executors/script/create-script-executor.js';
import type { ExecutionContext, JobPatch, ProgressEvent } from '../../src/model/executor.js';
import type { Job } from '../../src/model/job.js';
import { scriptJob } from '../fixtures/scripts/script-job.js';
import { until } from '../support/until.js';

const fixtures = resolve(import.meta.dirname, '..', 'fixtures', 'scripts');
let root: string;
let scriptsDir: string;
let tmpDir: string;
let outside: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'script-executor-test-'));
  scriptsDir = join(root, 'scripts');
  tmpDir = join(root, 'tmp');
  mkdirSync(scriptsDir);
  mkdirSync(tmpDir);
  for (const name of ['record.sh', 'fail.sh', 'chatty.sh', 'ignore-term.sh', 'spawn-child.sh']) {
    copyFileSync(join(fixtures, name), join(scriptsDir, name));
    chmodSync(join(scriptsDir, name), 0o755);
  }
  // A script outside the directory that would leave a marker if it ever ran.
  outside = join(root, 'outside.sh');
  writeFileSync(outside, `#!/bin/sh\ntouch "${root}/outside-ran"\n`, { mode: 0o755 });
  symlinkSync(outside, join(scriptsDir, 'link-out.sh'));
  symlinkSync('record.sh', join(scriptsDir, 'link-in.sh'));
  mkdirSync(join(scriptsDir, 'subdir'));
  writeFileSync(join(scriptsDir, 'noexec.sh'), `#!/bin/sh\ntouch "${root}/noexec-ran"\n`, {
    mode: 0o644,
  });
});

after(() => rmSync(root, { recursive: true, force: true }));

function freshOut(): string {
  return mkdtempSync(join(root, 'out-'));
}

interface RecordingContext extends ExecutionContext {
  events: Array<ProgressEvent & { at: number }>;
  updates: JobPatch[];
}

function context(overrides: Partial<ExecutionContext> = {}): RecordingContext {
  const events: RecordingContext['events'] = [];
  const updates: JobPatch[] = [];
  return {
    signal: new AbortController().signal,
    rolloutTimeoutMs: 600_000,
    progress: (event) => events.push({ ...event, at: Date.now() }),
    update: async (patch) => {
      updates.push(patch);
    },
    events,
    updates,
    ...overrides,
  };
}

function executor(out: string, options: Partial<ScriptExecutorOptions> = {}) {
  return createScriptExecutor({
    scriptsDir,
    tmpDir,
    killGraceMs: 300,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FIXTURE_OUT: out },
    ...options,
  });
}

/** The environment the script received, byte for byte (from /proc/<pid>/environ). */
function readEnviron(out: string): Map<string, Buffer> {
  const raw = readFileSync(join(out, 'environ'));
  const env = new Map<string, Buffer>();
  let start = 0;
  for (let i = 0; i < raw.length; i += 1) {
    if (raw[i] !== 0) continue;
    const entry = raw.subarray(start, i);
    const eq = entry.indexOf(0x3d);
    env.set(entry.subarray(0, eq).toString('utf8'), Buffer.from(entry.subarray(eq + 1)));
    start = i + 1;
  }
  return env;
}

const envStrings = (env: Map<string, Buffer>): Record<string, string> =>
  Object.fromEntries([...env].map(([k, v]) => [k, v.toString('utf8')]));

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // Dead but not yet reaped by init counts as gone.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

function withScript(job: Job, path: string, args: string[] = [], timeoutSeconds = 30): Job {
  return { ...job, script: { path, args, timeoutSeconds } };
}

describe('script executor: a successful run', () => {
  test('passes exactly the specified env, args and alert file, and records the result', async () => {
    const out = freshOut();
    const job = withScript(scriptJob({ fromRevision: 7, toRevision: 6 }), 'record.sh', [
      '--flag',
      'two words',
    ]);
    const ctx = context();
    const result = await executor(out).execute(job, ctx);

    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.reason, 'script exited with code 0');
    const alertPath = readFileSync(join(out, 'alert-path'), 'utf8');
    assert.deepEqual(envStrings(readEnviron(out)), {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      FIXTURE_OUT: out,
      ROLLBACK_ALERTNAME: 'CriticalErrorRate',
      ROLLBACK_TRIGGER: 'error_rate_threshold',
      ROLLBACK_CONFIDENCE: 'high',
      ROLLBACK_NAMESPACE: 'prod',
      ROLLBACK_TARGET: 'api',
      ROLLBACK_KIND: 'Deployment',
      ROLLBACK_JOB_ID: 'job-0001',
      ROLLBACK_DRY_RUN: 'false',
      ROLLBACK_FROM_REVISION: '7',
      ROLLBACK_TO_REVISION: '6',
      ROLLBACK_ALERT_FILE: alertPath,
      ROLLBACK_LABEL_ALERTNAME: 'CriticalErrorRate',
      ROLLBACK_LABEL_NAMESPACE: 'prod',
      ROLLBACK_LABEL_DEPLOYMENT: 'api',
      ROLLBACK_LABEL_SEVERITY: 'critical',
    });
    assert.equal(readFileSync(join(out, 'args'), 'utf8'), '--flag\0two words\0');

    // The alert file: the job's alert as JSON, 0600, in a private dir that is the cwd, then gone.
    assert.equal(
      readFileSync(join(out, 'alert.json'), 'utf8'),
      serializeAlertDocument(buildAlertDocument(job, false)),
    );
    assert.equal(readFileSync(join(out, 'alert-mode'), 'utf8').trim(), '600');
    assert.ok(alertPath.startsWith(`${tmpDir}/`), alertPath);
    assert.equal(readFileSync(join(out, 'cwd'), 'utf8').trim(), resolve(alertPath, '..'));
    assert.equal(existsSync(alertPath), false, 'alert file removed');
    assert.deepEqual(readdirSync(tmpDir), [], 'temp dir removed');

    const sr = result.fields?.scriptResult;
    assert.ok(sr);
    assert.equal(sr.exitCode, 0);
    assert.equal(sr.signal, null);
    assert.equal(sr.timedOut, false);
    assert.ok(Number.isFinite(sr.durationMs) && sr.durationMs >= 0, String(sr.durationMs));
    assert.match(sr.outputTail, /label command is: none\n/);
    assert.match(sr.outputTail, /to stderr\n/);
    assert.match(sr.outputTail, /recorded for job-0001\n/);

    // actedAt is persisted as soon as the process starts, and returned with the result.
    assert.equal(ctx.updates.length, 1);
    const actedAt = ctx.updates[0]?.actedAt;
    assert.ok(actedAt && !Number.isNaN(Date.parse(actedAt)));
    assert.equal(result.fields?.actedAt, actedAt);
    assert.equal(ctx.events[0]?.event, 'script_started');
    assert.equal(ctx.events[0]?.message, 'running record.sh --flag "two words"');
  });

  test('hostile label values and args reach the script as inert bytes', async () => {
    const out = freshOut();
    const marker = (n: number) => join(root, `pwned-${n}`);
    const labels: Record<string, string> = {
      alertname: 'CriticalErrorRate',
      namespace: 'prod',
      deployment: 'api',
      command: `$(touch ${marker(1)})`,
      backticks: `\`touch ${marker(2)}\``,
      semicolon: `x; touch ${marker(3)}; rm -rf /`,
      pipe: `x | nc 127.0.0.1 9 | touch ${marker(4)}`,
      newline: `first\nsecond\n\ntouch ${marker(5)}`,
      quotes: `it's "quoted" \\ \\n '$HOME'`,
      glob: '*',
      unicode: 'ünïcødé 😀 \u0001\u001b[31m',
      'weird.name/$(touch x)': 'v',
    };
    const args = [`$(touch ${marker(6)})`, '*', '; touch x', ''];
    const job = withScript(scriptJob({}, labels), 'record.sh', args);
    const result = await executor(out).execute(job, context());

    assert.equal(result.outcome, 'succeeded', result.fields?.scriptResult?.outputTail);
    const env = readEnviron(out);
    const expected: Array<[string, string]> = [
      ['ROLLBACK_LABEL_COMMAND', labels.command],
      ['ROLLBACK_LABEL_BACKTICKS', labels.backticks],
      ['ROLLBACK_LABEL_SEMICOLON', labels.semicolon],
      ['ROLLBACK_LABEL_PIPE', labels.pipe],
      ['ROLLBACK_LABEL_NEWLINE', labels.newline],
      ['ROLLBACK_LABEL_QUOTES', labels.quotes],
      ['ROLLBACK_LABEL_GLOB', '*'],
      ['ROLLBACK_LABEL_UNICODE', labels.unicode],
      ['ROLLBACK_LABEL_WEIRD_NAME___TOUCH_X_', 'v'],
    ];
    for (const [name, value] of expected) {
      assert.deepEqual(env.get(name), Buffer.from(value, 'utf8'), name);
    }
    assert.equal(readFileSync(join(out, 'args'), 'utf8'), `${args.join('\0')}\0`);
    assert.deepEqual(
      JSON.parse(readFileSync(join(out, 'alert.json'), 'utf8')).alert.labels,
      labels,
    );
    assert.equal(
      result.fields?.scriptResult?.outputTail.split('\n')[0],
      `label command is: ${labels.command}`,
    );
    for (let n = 1; n <= 6; n += 1) assert.equal(existsSync(marker(n)), false, `marker ${n}`);
  });

  test('only the tail of a large output is kept', async () => {
    const out = freshOut();
    const job = withScript(scriptJob(), 'chatty.sh', ['bulk']);
    const result = await executor(out, { outputTailBytes: 100 }).execute(job, context());
    const tail = result.fields?.scriptResult?.outputTail ?? '';
    assert.equal(result.outcome, 'succeeded');
    assert.equal(Buffer.byteLength(tail), 100);
    assert.equal(tail, `${'x'.repeat(91)}\nthe end\n`);
  });

  test('output progress is throttled to one event per second, with the last line', async () => {
    const out = freshOut();
    const job = withScript(scriptJob(), 'chatty.sh', ['lines']);
    const ctx = context();
    const result = await executor(out).execute(job, ctx);
    assert.equal(result.outcome, 'succeeded');
    const outputs = ctx.events.filter((e) => e.event === 'script_output');
    // 15 lines over 1.5 s: more than one event, never more than one a second, each the last
    // line of its chunk (which line that is depends on how the pipe's chunks fall on a busy
    // machine: line 1 when idle).
    assert.ok(outputs.length >= 2, JSON.stringify(outputs));
    assert.match(outputs[0]?.message ?? '', /^line \d+$/);
    for (let i = 1; i < outputs.length; i += 1) {
      assert.ok(outputs[i].at - outputs[i - 1].at >= 950, 'at most one per second');
      assert.match(outputs[i].message, /^line \d+$/);
    }
  });

  test('secrets in the base env never reach the script', async () => {
    const out = freshOut();
    const env = {
      PATH: process.env.PATH,
      FIXTURE_OUT: out,
      KEEP_ME: 'yes',
      ROLLBACK_WEBHOOK_SECRET: 's1',
      ROLLBACK_WEBHOOK_SECRET_FILE: '/run/secrets/webhook',
      ROLLBACK_OPERATOR_SECRET: 's2',
      ROLLBACK_OPERATOR_SECRET_FILE: '/run/secrets/operator',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.example/T/B/x',
      SLACK_WEBHOOK_URL_FILE: '/run/secrets/slack',
      ROLLBACK_LABEL_SEVERITY: 'forged',
    };
    await executor(out, { env }).execute(withScript(scriptJob(), 'record.sh'), context());
    const received = envStrings(readEnviron(out));
    assert.equal(received.KEEP_ME, 'yes');
    assert.equal(received.ROLLBACK_LABEL_SEVERITY, 'critical');
    for (const name of Object.keys(env).filter((n) => /SECRET|SLACK/.test(n))) {
      assert.equal(name in received, false, name);
    }
    assert.equal(
      Object.values(received).some((v) => /s1|s2|hooks\.slack/.test(v)),
      false,
    );
  });

  test('the default base env is process.env without its secrets', async () => {
    const out = freshOut();
    const saved = { ...process.env };
    Object.assign(process.env, {
      FIXTURE_OUT: out,
      ROLLBACK_WEBHOOK_SECRET: 'from-process',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.example/process',
    });
    try {
      const ex = createScriptExecutor({ scriptsDir, tmpDir });
      const result = await ex.execute(withScript(scriptJob(), 'record.sh'), context());
      assert.equal(result.outcome, 'succeeded');
    } finally {
      for (const key of ['FIXTURE_OUT', 'ROLLBACK_WEBHOOK_SECRET', 'SLACK_WEBHOOK_URL']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    const received = envStrings(readEnviron(out));
    assert.equal(received.FIXTURE_OUT, out);
    assert.equal('ROLLBACK_WEBHOOK_SECRET' in received, false);
    assert.equal('SLACK_WEBHOOK_URL' in received, false);
  });

  test('dryRun option sets ROLLBACK_DRY_RUN=true in the env and the alert file', async () => {
    const out = freshOut();
    await executor(out, { dryRun: true }).execute(withScript(scriptJob(), 'record.sh'), context());
    assert.equal(envStrings(readEnviron(out)).ROLLBACK_DRY_RUN, 'true');
    assert.equal(JSON.parse(readFileSync(join(out, 'alert.json'), 'utf8')).dryRun, true);
  });

  test('a symlink that stays inside the scripts directory runs its target', async () => {
    const out = freshOut();
    const result = await executor(out).execute(withScript(scriptJob(), 'link-in.sh'), context());
    assert.equal(result.outcome, 'succeeded');
    assert.ok(existsSync(join(out, 'environ')));
  });
});

describe('script executor: failures', () => {
  test('a non-zero exit fails the job with the code and the output tail', async () => {
    const out = freshOut();
    const result = await executor(out).execute(withScript(scriptJob(), 'fail.sh'), context());
    assert.equal(result.outcome, 'failed');
    assert.equal(result.reason, 'script exited with code 3');
    assert.equal(result.fields?.scriptResult?.exitCode, 3);
    assert.equal(result.fields?.scriptResult?.timedOut, false);
    // stdout and stderr are two pipes: lines from each keep their order, not across them.
    const lines = result.fields?.scriptResult?.outputTail.split('\n').sort();
    assert.deepEqual(lines, ['', 'checking api', 'deployment not found']);
    assert.deepEqual(readdirSync(tmpDir), []);
  });

  test('a script that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const out = freshOut();
    const ctx = context();
    const started = Date.now();
    const result = await executor(out, { killGraceMs: 300 }).execute(
      withScript(scriptJob(), 'ignore-term.sh', [], 1),
      ctx,
    );
    const elapsed = Date.now() - started;
    assert.equal(result.outcome, 'failed');
    assert.equal(result.reason, 'script timed out after 1s (SIGTERM, then SIGKILL)');
    const sr = result.fields?.scriptResult;
    assert.equal(sr?.timedOut, true);
    assert.equal(sr?.signal, 'SIGKILL');
    assert.equal(sr?.exitCode, null);
    // At least timeout + grace; SIGKILL (above) shows it did not run to its own end. No upper
    // bound: how late a loaded machine delivers the timer is not the executor's behaviour.
    assert.ok(sr.durationMs >= 1250, `durationMs ${sr.durationMs}`);
    assert.ok(elapsed >= sr.durationMs, `returned after ${elapsed} ms`);
    assert.match(sr.outputTail, /ignoring SIGTERM/);
    const pid = Number(readFileSync(join(out, 'pid'), 'utf8'));
    assert.ok(isGone(pid), 'script process gone');
    assert.deepEqual(
      ctx.events.filter((e) => e.event === 'script_terminating').map((e) => e.data?.signal),
      ['SIGTERM', 'SIGKILL'],
    );
    assert.deepEqual(readdirSync(tmpDir), []);
  });

  test('the job deadline shortens the script timeout', async () => {
    const out = freshOut();
    const result = await executor(out, { killGraceMs: 200 }).execute(
      withScript(scriptJob(), 'ignore-term.sh', [], 60),
      context({ rolloutTimeoutMs: 400 }),
    );
    assert.equal(result.reason, 'script timed out after 0.4s (SIGTERM, then SIGKILL)');
    const d = result.fields?.scriptResult?.durationMs ?? 0;
    assert.ok(d >= 550, `durationMs ${d}: the 0.4 s deadline plus the 0.2 s grace`);
  });

  test('aborting the job terminates the script', async () => {
    const out = freshOut();
    const controller = new AbortController();
    // Aborted once the script is running and talking, however long a busy machine takes to start it.
    const result = await executor(out).execute(
      withScript(scriptJob(), 'chatty.sh', ['lines']),
      context({
        signal: controller.signal,
        progress: (e) => {
          if (e.event === 'script_output') controller.abort();
        },
      }),
    );
    assert.equal(result.outcome, 'failed');
    assert.equal(result.reason, 'script was cancelled (SIGTERM)');
    assert.equal(result.fields?.scriptResult?.signal, 'SIGTERM');
  });

  test('a script whose interpreter is missing fails to start, with the reason', async () => {
    const path = join(scriptsDir, 'bad-shebang.sh');
    writeFileSync(path, '#!/nonexistent/interpreter\necho never\n', { mode: 0o755 });
    const ctx = context();
    const result = await executor(freshOut()).execute(
      withScript(scriptJob(), 'bad-shebang.sh'),
      ctx,
    );
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /^could not start script: .*ENOENT/);
    assert.deepEqual(ctx.updates, []);
    assert.deepEqual(readdirSync(tmpDir), []);
  });

  test('a deadline already passed runs nothing', async () => {
    const out = freshOut();
    const ctx = context({ rolloutTimeoutMs: 0 });
    const result = await executor(out).execute(withScript(scriptJob(), 'record.sh'), ctx);
    assert.deepEqual(result, {
      outcome: 'failed',
      reason: 'the job deadline passed before the script started',
    });
    assert.equal(existsSync(join(out, 'environ')), false);
  });

  test('a label that cannot be an env var is logged and left out; the script still runs', async () => {
    const out = freshOut();
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_: object, msg: string) => warnings.push(msg) };
    const labels = { alertname: 'A', namespace: 'prod', deployment: 'api', bad: 'a\0b' };
    const result = await executor(out, { logger }).execute(
      withScript(scriptJob({}, labels), 'record.sh'),
      context(),
    );
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(warnings, ['label not passed as env var: value contains a NUL byte']);
    assert.equal(readEnviron(out).has('ROLLBACK_LABEL_BAD'), false);
    assert.equal(
      JSON.parse(readFileSync(join(out, 'alert.json'), 'utf8')).alert.labels.bad,
      'a\0b',
    );
  });

  test('an abort before start runs nothing', async () => {
    const out = freshOut();
    const controller = new AbortController();
    controller.abort();
    const ctx = context({ signal: controller.signal });
    const result = await executor(out).execute(withScript(scriptJob(), 'record.sh'), ctx);
    assert.deepEqual(result, { outcome: 'skipped', reason: 'cancelled before the script started' });
    assert.equal(existsSync(join(out, 'environ')), false);
    assert.deepEqual(ctx.updates, []);
  });

  test('scripts still running when the controller process exits are killed', async () => {
    const out = freshOut();
    // Its own temp dir: an abrupt exit leaves the alert file behind, which is not what this checks.
    const exitTmp = mkdtempSync(join(root, 'tmp-exit-'));
    const module = resolve(
      import.meta.dirname,
      '..',
      '..',
      'src/executors/script/create-script-executor.ts',
    );
    const program = `
      import { createScriptExecutor } from ${JSON.stringify(module)};
      const ex = createScriptExecutor({
        scriptsDir: ${JSON.stringify(scriptsDir)},
        tmpDir: ${JSON.stringify(exitTmp)},
        env: { PATH: process.env.PATH, FIXTURE_OUT: ${JSON.stringify(out)} },
      });
      const job = JSON.parse(process.argv[1]);
      // The controller exits once the script has started (it wrote its pid), not after a fixed time.
      void ex.execute(job, {
        signal: new AbortController().signal, rolloutTimeoutMs: 60000,
        progress: () => {}, update: async () => {},
      });
      const { readFileSync } = await import('node:fs');
      const pidFile = ${JSON.stringify(join(out, 'pid'))};
      const started = () => { try { return readFileSync(pidFile, 'utf8').endsWith('\\n'); } catch { return false; } };
      setInterval(() => { if (started()) process.exit(0); }, 10);
    `;
    const job = withScript(scriptJob(), 'ignore-term.sh', [], 60);
    const child = await execa(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', program, JSON.stringify(job)],
      // A hang guard (the suite's per-test timeout), not a speed limit: tsx starts slowly when busy.
      { reject: false, timeout: 120_000 },
    );
    assert.equal(child.exitCode, 0, child.stderr);
    const pid = Number(readFileSync(join(out, 'pid'), 'utf8'));
    await until(() => isGone(pid), 10_000, `script ${pid} gone after the controller`);
  });

  for (const mode of ['attached', 'stubborn']) {
    test(`a background child left behind (${mode}) is killed with the script's group`, async () => {
      const out = freshOut();
      const started = Date.now();
      const result = await executor(out, { killGraceMs: 300 }).execute(
        withScript(scriptJob(), 'spawn-child.sh', [mode]),
        context(),
      );
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.fields?.scriptResult?.outputTail, 'left a child behind\n');
      // The child lives 30 s: returning before that is returning without waiting for it.
      assert.ok(Date.now() - started < 30_000, 'did not wait for the 30 s child');
      const child = Number(readFileSync(join(out, 'child.pid'), 'utf8'));
      assert.ok(child > 0);
      assert.ok(isGone(child), `child ${child} still running`);
    });
  }
});

describe('script executor: refused paths run nothing', () => {
  const cases: Array<[name: string, path: () => string, reason: RegExp]> = [
    ['dot-dot', () => '../outside.sh', /must not contain "\.\."/],
    ['absolute outside', () => outside, /is outside the scripts directory/],
    ['/bin/sh', () => '/bin/sh', /is outside the scripts directory/],
    [
      'symlink out',
      () => 'link-out.sh',
      /resolves to .*outside\.sh, outside the scripts directory/,
    ],
    ['not executable', () => 'noexec.sh', /noexec\.sh is not executable \(chmod \+x it\)/],
    ['missing', () => 'missing.sh', /missing\.sh does not exist/],
    ['a directory', () => 'subdir', /subdir is not a regular file/],
  ];
  for (const [name, path, reason] of cases) {
    test(name, async () => {
      const out = freshOut();
      const ctx = context();
      const ex = executor(out);
      const result = await ex.execute(withScript(scriptJob(), path()), ctx);
      assert.equal(result.outcome, 'failed');
      assert.match(result.reason, reason);
      assert.match(result.reason, /; nothing was run$/);
      assert.equal(result.fields, undefined);
      assert.deepEqual(ctx.updates, []);
      assert.deepEqual(ctx.events, []);
      assert.equal(existsSync(join(root, 'outside-ran')), false);
      assert.equal(existsSync(join(root, 'noexec-ran')), false);

      const plan = await ex.plan(withScript(scriptJob(), path()));
      assert.notEqual(plan.action, 'run_script');
      assert.match(plan.reason, reason);
    });
  }
});

describe('script executor: plan, availability, recover', () => {
  test('plan describes the run without running it', async () => {
    const out = freshOut();
    const ex = executor(out);
    const plan = await ex.plan(
      withScript(scriptJob({ toRevision: 6 }), 'record.sh', ['--flag', 'two words']),
    );
    assert.deepEqual(plan, {
      action: 'run_script',
      reason: `would run ${join(scriptsDir, 'record.sh')} --flag "two words" with 14 env vars`,
    });
    assert.equal(existsSync(join(out, 'environ')), false);
    assert.deepEqual(readdirSync(tmpDir), []);
  });

  test('plan: missing and not executable are unavailable; outside is skip', async () => {
    const ex = executor(freshOut());
    assert.equal((await ex.plan(withScript(scriptJob(), 'missing.sh'))).action, 'unavailable');
    assert.equal((await ex.plan(withScript(scriptJob(), 'noexec.sh'))).action, 'unavailable');
    assert.equal((await ex.plan(withScript(scriptJob(), '../outside.sh'))).action, 'skip');
  });

  test('availability follows the scripts directory', async () => {
    assert.deepEqual(await executor(freshOut()).availability(), { available: true });
    const missing = await createScriptExecutor({ scriptsDir: join(root, 'nope') }).availability();
    assert.equal(missing.available, false);
    assert.match(missing.reason ?? '', /scripts directory .*nope is not readable \(ENOENT\)/);
  });

  test('a script interrupted by a restart is failed, not re-run', async () => {
    const out = freshOut();
    const ex = executor(out);
    assert.ok(ex.recover);
    const ctx = context();
    const result = await ex.recover(withScript(scriptJob(), 'record.sh'), ctx);
    assert.deepEqual(result, { outcome: 'failed', reason: RECOVER_REASON });
    assert.equal(
      RECOVER_REASON,
      'interrupted by a restart while the script was running; not re-run automatically (scripts may not be idempotent)',
    );
    assert.equal(existsSync(join(out, 'environ')), false);
  });
});
