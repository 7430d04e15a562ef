// The shipped rollback-scripts/*.sh run through the script executor, with fake `kubectl` and
// `helm` on PATH that record every call: a dry run must call neither, a real run must call
// them with exactly the expected argument arrays.
import { strict as assert } from 'node:assert';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createScriptExecutor } from '../../src/executors/script/create-script-executor.js';
import type { ExecutionContext } from '../../src/model/executor.js';
import type { Job } from '../../src/model/job.js';
import { scriptJob } from '../fixtures/scripts/script-job.js';

const repoScripts = resolve(import.meta.dirname, '..', '..', 'rollback-scripts');
const fakeTool = resolve(import.meta.dirname, '..', 'fixtures', 'scripts', 'fake-tool.sh');
let root: string;
let bin: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'rollback-scripts-test-'));
  bin = join(root, 'bin');
  mkdirSync(bin);
  for (const name of ['kubectl', 'helm']) {
    copyFileSync(fakeTool, join(bin, name));
    chmodSync(join(bin, name), 0o755);
  }
});

after(() => rmSync(root, { recursive: true, force: true }));

const ctx = (): ExecutionContext => ({
  signal: new AbortController().signal,
  rolloutTimeoutMs: 60_000,
  progress: () => undefined,
  update: async () => undefined,
});

interface Run {
  outcome: string;
  reason: string;
  output: string;
  /** Each call as its argument array, starting with the tool's name. */
  calls: string[][];
}

async function run(
  job: Job,
  options: { dryRun?: boolean; env?: Record<string, string> } = {},
): Promise<Run> {
  const log = join(mkdtempSync(join(root, 'run-')), 'calls.log');
  const executor = createScriptExecutor({
    scriptsDir: repoScripts,
    tmpDir: root,
    killGraceMs: 500,
    dryRun: options.dryRun ?? false,
    env: {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      LANG: 'C.UTF-8',
      FAKE_TOOL_LOG: log,
      ...options.env,
    },
  });
  const result = await executor.execute(job, ctx());
  const calls = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\0').slice(0, -1))
    : [];
  return {
    outcome: result.outcome,
    reason: result.reason,
    output: result.fields?.scriptResult?.outputTail ?? '',
    calls,
  };
}

const job = (
  path: string,
  args: string[] = [],
  overrides: Partial<Job> = {},
  labels?: Record<string, string>,
) =>
  ({ ...scriptJob(overrides, labels), script: { path, args, timeoutSeconds: 30 } }) satisfies Job;

describe('dry runs print the plan and call nothing', () => {
  test('kubectl-rollout-undo.sh', async () => {
    const r = await run(
      job('kubectl-rollout-undo.sh', ['--check-from-revision'], { fromRevision: 5, toRevision: 4 }),
      {
        dryRun: true,
      },
    );
    assert.equal(r.outcome, 'succeeded', r.output);
    assert.deepEqual(r.calls, []);
    assert.match(r.output, /^DRY RUN: nothing will be changed$/m);
    assert.match(r.output, /^would check that deployment\/api in prod is at revision 5$/m);
    assert.match(
      r.output,
      /^would run: kubectl rollout undo deployment\/api -n prod --to-revision=4$/m,
    );
    assert.match(
      r.output,
      /^would run: kubectl rollout status deployment\/api -n prod --timeout=10m$/m,
    );
  });

  test('helm-rollback.sh', async () => {
    const r = await run(
      job(
        'helm-rollback.sh',
        ['--revision', '3'],
        {},
        { alertname: 'A', namespace: 'pay', helm_release: 'payments' },
      ),
      {
        dryRun: true,
      },
    );
    assert.equal(r.outcome, 'succeeded', r.output);
    assert.deepEqual(r.calls, []);
    assert.match(r.output, /^would run: helm rollback payments 3 -n pay --wait --timeout 5m$/m);
  });

  test('custom-template.sh reads the alert file in plain bash, decoding JSON escapes', async () => {
    const summary = 'Errors > 5% on "api" $(touch /tmp/never) `x` \\ tab\there ünï';
    const j = job('custom-template.sh');
    j.alert.annotations = { description: 'first', summary, runbook_url: 'https://r.example' };
    const r = await run(j, { dryRun: true });
    assert.equal(r.outcome, 'succeeded', r.output);
    assert.deepEqual(r.calls, []);
    assert.equal(
      r.output,
      [
        'job job-0001: CriticalErrorRate (critical) on prod/api',
        'alert started at 2025-03-01T10:00:00.000Z',
        `summary: ${summary}`,
        'DRY RUN: would run do_rollback for prod/api; nothing changed',
        '',
      ].join('\n'),
    );
  });
});

describe('kubectl-rollout-undo.sh', () => {
  test('undoes to the pinned revision, then waits for the rollout', async () => {
    const r = await run(job('kubectl-rollout-undo.sh', [], { fromRevision: 5, toRevision: 4 }));
    assert.equal(r.outcome, 'succeeded', r.output);
    assert.deepEqual(r.calls, [
      ['kubectl', 'rollout', 'undo', 'deployment/api', '-n', 'prod', '--to-revision=4'],
      ['kubectl', 'rollout', 'status', 'deployment/api', '-n', 'prod', '--timeout=10m'],
    ]);
  });

  test('the kind comes from the job target; --timeout and --no-wait are honoured', async () => {
    const target = { kind: 'StatefulSet' as const, namespace: 'data', name: 'db' };
    const r = await run(
      job('kubectl-rollout-undo.sh', ['--timeout', '90s'], { target, toRevision: 2 }),
    );
    assert.deepEqual(r.calls, [
      ['kubectl', 'rollout', 'undo', 'statefulset/db', '-n', 'data', '--to-revision=2'],
      ['kubectl', 'rollout', 'status', 'statefulset/db', '-n', 'data', '--timeout=90s'],
    ]);
    const noWait = await run(
      job('kubectl-rollout-undo.sh', ['--no-wait'], { target, toRevision: 2 }),
    );
    assert.equal(noWait.calls.length, 1);
  });

  test('with --check-from-revision, proceeds only while the workload is at the bad revision', async () => {
    const pinned = job('kubectl-rollout-undo.sh', ['--check-from-revision'], {
      fromRevision: 5,
      toRevision: 4,
    });
    const get = [
      'kubectl',
      'get',
      'deployment/api',
      '-n',
      'prod',
      '-o',
      'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}',
    ];
    const same = await run(pinned, { env: { FAKE_KUBECTL_REVISION: '5' } });
    assert.equal(same.outcome, 'succeeded', same.output);
    assert.deepEqual(same.calls[0], get);
    assert.deepEqual(
      same.calls.slice(1).map((c) => c.slice(0, 3)),
      [
        ['kubectl', 'rollout', 'undo'],
        ['kubectl', 'rollout', 'status'],
      ],
    );

    const moved = await run(pinned, { env: { FAKE_KUBECTL_REVISION: '6' } });
    assert.equal(moved.outcome, 'failed');
    assert.equal(moved.reason, 'script exited with code 3');
    assert.deepEqual(moved.calls, [get]);
    assert.match(moved.output, /is at revision '6', not 5: it moved on since the alert/);
  });

  test('refuses an unpinned undo unless --allow-unpinned is given', async () => {
    const refused = await run(job('kubectl-rollout-undo.sh'));
    assert.equal(refused.reason, 'script exited with code 2');
    assert.deepEqual(refused.calls, []);
    assert.match(refused.output, /ROLLBACK_TO_REVISION is not set: refusing an unpinned undo/);

    const allowed = await run(job('kubectl-rollout-undo.sh', ['--allow-unpinned', '--no-wait']));
    assert.equal(allowed.outcome, 'succeeded', allowed.output);
    assert.deepEqual(allowed.calls, [
      ['kubectl', 'rollout', 'undo', 'deployment/api', '-n', 'prod'],
    ]);
  });

  const invalid: Array<[string, Record<string, string>]> = [
    [
      'a target with shell syntax',
      { alertname: 'A', namespace: 'prod', deployment: 'api; rm -rf /' },
    ],
    ['an upper-case target', { alertname: 'A', namespace: 'prod', deployment: 'API' }],
    ['a namespace with a slash', { alertname: 'A', namespace: 'prod/../x', deployment: 'api' }],
    ['no target', { alertname: 'A', namespace: 'prod' }],
    ['an unknown kind', { alertname: 'A', namespace: 'prod', deployment: 'api', kind: 'Pod' }],
  ];
  for (const [name, labels] of invalid) {
    test(`refuses ${name} without calling kubectl`, async () => {
      const r = await run(job('kubectl-rollout-undo.sh', [], { toRevision: 4 }, labels));
      assert.equal(r.reason, 'script exited with code 2');
      assert.deepEqual(r.calls, []);
    });
  }

  test('a failing kubectl fails the job with its exit code', async () => {
    const r = await run(job('kubectl-rollout-undo.sh', [], { toRevision: 4 }), {
      env: { FAKE_TOOL_EXIT: '1' },
    });
    assert.equal(r.reason, 'script exited with code 1');
    assert.equal(r.calls.length, 1);
  });
});

describe('helm-rollback.sh', () => {
  const labels = { alertname: 'A', namespace: 'pay', helm_release: 'payments', deployment: 'api' };

  test('rolls back the release named by the helm_release label, waiting for it', async () => {
    const r = await run(job('helm-rollback.sh', [], {}, labels));
    assert.equal(r.outcome, 'succeeded', r.output);
    assert.deepEqual(r.calls, [
      ['helm', 'rollback', 'payments', '-n', 'pay', '--wait', '--timeout', '5m'],
    ]);
  });

  test('falls back to the target name; --revision and --timeout are passed on', async () => {
    const r = await run(job('helm-rollback.sh', ['--revision', '3', '--timeout', '2m']));
    assert.deepEqual(r.calls, [
      ['helm', 'rollback', 'api', '3', '-n', 'prod', '--wait', '--timeout', '2m'],
    ]);
  });

  test('--expect-current refuses when the release has moved on', async () => {
    const args = ['--expect-current', '7'];
    const same = await run(job('helm-rollback.sh', args, {}, labels), {
      env: { FAKE_HELM_REVISION: '7' },
    });
    assert.equal(same.outcome, 'succeeded', same.output);
    assert.deepEqual(same.calls, [
      ['helm', 'get', 'metadata', 'payments', '-n', 'pay', '-o', 'yaml'],
      ['helm', 'rollback', 'payments', '-n', 'pay', '--wait', '--timeout', '5m'],
    ]);
    const moved = await run(job('helm-rollback.sh', args, {}, labels), {
      env: { FAKE_HELM_REVISION: '8' },
    });
    assert.equal(moved.reason, 'script exited with code 3');
    assert.equal(moved.calls.length, 1);
  });

  test('refuses an invalid release name without calling helm', async () => {
    const r = await run(job('helm-rollback.sh', [], {}, { ...labels, helm_release: '$(reboot)' }));
    assert.equal(r.reason, 'script exited with code 2');
    assert.deepEqual(r.calls, []);
  });
});

describe('custom-template.sh', () => {
  test('a real run fails until do_rollback is filled in', async () => {
    const r = await run(job('custom-template.sh'));
    assert.equal(r.reason, 'script exited with code 4');
    assert.match(r.output, /this is a template: fill in do_rollback/);
  });
});
