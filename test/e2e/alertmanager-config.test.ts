// Every Alertmanager config we ship or generate, through the real amtool: the README's receiver
// example (kept identical to its fixture), the recommended route, and the alertmanager.yml the
// end-to-end tests run. `amtool config routes test` shows where a critical alert goes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  checkAlertmanagerConfig,
  renderAlertmanagerConfig,
  webhookTimeoutSupported,
} from '../support/alertmanager.js';
import { runTool } from '../support/prometheus.js';

const root = resolve(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'alertmanager');
const dir = mkdtempSync(join(tmpdir(), 'rc-amcfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const amtool = (args: string[]) => runTool('amtool', args, 'prometheus-alertmanager');

/** The receivers `amtool config routes test` resolves for an alert with these labels. */
async function receiversFor(configPath: string, labels: Record<string, string>) {
  const result = await amtool([
    'config',
    'routes',
    'test',
    `--config.file=${configPath}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ]);
  assert.equal(result.code, 0, result.output);
  const line = result.output.split('\n').find((l) => l && !l.startsWith('Warning'));
  return (line ?? '').split(',').sort();
}

/** Written to the temp dir; on an Alertmanager without the webhook `timeout` field, without it. */
function forThisAlertmanager(text: string, supported: boolean): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, supported ? text : text.replace(/^\s+timeout: .*\n/gm, ''));
  return path;
}

const critical = { alertname: 'CriticalErrorRate', severity: 'critical', namespace: 'shop' };

/** A fixture without its leading comment: what the Alertmanager guide shows. */
function fixtureBody(name: string): string {
  return readFileSync(join(fixtures, name), 'utf8').replace(/^(#.*\n)+/, '');
}

/** The guide the README links (charts/rollback-controller/docs/alertmanager.md). */
const GUIDE = 'charts/rollback-controller/docs/alertmanager.md';

/** The guide's section (`## title...`) shows exactly the fixture in its first yaml block. */
function assertReadmeShows(title: string, fixture: string): void {
  const readme = readFileSync(join(root, GUIDE), 'utf8');
  const section = readme.split(/^##+ /m).find((s) => s.startsWith(title));
  assert.ok(section, `${GUIDE} has a "${title}" section`);
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the section has a yaml block');
  // Prettier formats the fixture, not README.md: only the spaces before comments may differ.
  const normal = (text: string) => text.replace(/ {2,}#/g, ' #');
  assert.equal(
    normal(block),
    normal(fixtureBody(fixture)),
    `${GUIDE} and test/fixtures/alertmanager/${fixture} differ: update both`,
  );
}

describe('README receiver example', () => {
  const fixturePath = join(fixtures, 'receiver-example.yml');
  const fixture = fixtureBody('receiver-example.yml');

  test('the Alertmanager guide still shows exactly the fixture', () => {
    assertReadmeShows('Alertmanager receiver', 'receiver-example.yml');
  });

  test('amtool check-config accepts it (the webhook timeout needs Alertmanager 0.28+)', async () => {
    const supported = await webhookTimeoutSupported();
    const asShipped = await checkAlertmanagerConfig(fixturePath);
    if (supported || !/^\s+timeout:/m.test(fixture)) {
      assert.equal(asShipped.code, 0, asShipped.output);
    } else {
      // This Alertmanager predates the field: the timeout line is the one and only complaint.
      assert.notEqual(asShipped.code, 0);
      const complaints = asShipped.output.split('\n').filter((l) => /line \d+:/.test(l));
      assert.equal(complaints.length, 1, asShipped.output);
      assert.match(complaints[0] ?? '', /field timeout not found/);
    }
    const result = await checkAlertmanagerConfig(forThisAlertmanager(fixture, supported));
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS/);
    assert.match(result.output, /3 receivers/);
  });

  test('sends critical alerts to the controller with basic auth from a file and send_resolved', async () => {
    const path = forThisAlertmanager(fixture, await webhookTimeoutSupported());
    assert.ok((await receiversFor(path, critical)).includes('rollback-controller'));
    assert.deepEqual(await receiversFor(path, { ...critical, severity: 'warning' }), ['default']);
    const config = parse(fixture);
    const hook = config.receivers.find((r: { name: string }) => r.name === 'rollback-controller')
      .webhook_configs[0];
    assert.match(hook.url, /\/api\/admin\/rollback\/trigger$/);
    assert.equal(hook.send_resolved, true);
    assert.equal(hook.http_config.basic_auth.username, 'alertmanager');
    assert.ok(hook.http_config.basic_auth.password_file, 'the secret comes from a file');
    assert.equal(hook.http_config.basic_auth.password, undefined, 'no inline secret');
  });
});

describe('README: several clusters behind one Alertmanager', () => {
  const path = join(fixtures, 'multi-cluster.yml');
  const checkout = { ...critical, namespace: 'prod', deployment: 'checkout' };

  test('the Alertmanager guide still shows exactly the fixture', () => {
    assertReadmeShows('Several clusters behind one Alertmanager', 'multi-cluster.yml');
  });

  test('amtool check-config accepts it', async () => {
    const result = await checkAlertmanagerConfig(path);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /4 receivers/);
  });

  test("each cluster's critical alert reaches that cluster's controller only, and on-call", async () => {
    assert.deepEqual(await receiversFor(path, { ...checkout, cluster: 'us-1' }), [
      'on-call',
      'rollback-controller-us-1',
    ]);
    assert.deepEqual(await receiversFor(path, { ...checkout, cluster: 'eu-1' }), [
      'on-call',
      'rollback-controller-eu-1',
    ]);
  });

  test('no cluster label, an unknown cluster, or not critical: no controller', async () => {
    assert.deepEqual(await receiversFor(path, checkout), ['on-call']);
    assert.deepEqual(await receiversFor(path, { ...checkout, cluster: 'ap-1' }), ['on-call']);
    assert.deepEqual(
      await receiversFor(path, { ...checkout, cluster: 'us-1', severity: 'warning' }),
      ['default'],
    );
  });
});

describe('recommended route', () => {
  const path = join(fixtures, 'recommended-route.yml');

  test('amtool check-config accepts it', async () => {
    const result = await checkAlertmanagerConfig(path);
    assert.equal(result.code, 0, result.output);
  });

  test('a critical alert reaches the controller and still pages on-call; others do not', async () => {
    assert.deepEqual(await receiversFor(path, critical), ['on-call', 'rollback-controller']);
    assert.deepEqual(await receiversFor(path, { ...critical, severity: 'warning' }), ['default']);
  });
});

describe('the alertmanager.yml the end-to-end tests generate', () => {
  test('webhook timeout support is detected as the installed version has it (0.28+)', async () => {
    const version = await amtool(['--version']);
    const m = /version (\d+)\.(\d+)\./.exec(version.output);
    assert.ok(m, version.output);
    const atLeast028 = Number(m[1]) > 0 || Number(m[2]) >= 28;
    assert.equal(await webhookTimeoutSupported(), atLeast028);
  });

  test('passes amtool check-config and routes critical alerts to the webhook', async () => {
    const supported = await webhookTimeoutSupported();
    const text = renderAlertmanagerConfig({
      webhookUrl: 'http://127.0.0.1:8080/api/admin/rollback/trigger',
      passwordFile: join(dir, 'secret'),
      webhookTimeout: supported ? '10s' : null,
      repeatInterval: '4s',
    });
    const path = join(dir, 'generated.yml');
    writeFileSync(path, text);
    const result = await checkAlertmanagerConfig(path);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(await receiversFor(path, critical), ['rollback-controller']);
    const hook = parse(text).receivers[1].webhook_configs[0];
    assert.equal(hook.send_resolved, true);
    assert.equal(hook.timeout, supported ? '10s' : undefined);
    assert.equal(hook.http_config.basic_auth.password_file, join(dir, 'secret'));
  });

  test('a broken config is refused by amtool (the check can fail)', async () => {
    const path = join(dir, 'broken.yml');
    writeFileSync(path, 'route:\n  receiver: nowhere\nreceivers:\n  - name: default\n');
    const result = await checkAlertmanagerConfig(path);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /undefined receiver "nowhere"/);
  });
});
