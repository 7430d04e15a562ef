// Ctrl-C on a running node (what `npm run playground` and an interrupted suite rely on) leaves
// nothing behind on the host: no process, bridge, network namespace, cgroup, iptables chain or
// folder of the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { isRunning } from '../support/kube-cluster/processes.js';

const LOCK = '/run/rollback-controller-node.lock';

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '');
  }
};

/** What the host has that a node could leave behind. */
function hostState() {
  const rules = ['filter', 'nat', 'mangle'].flatMap((t) =>
    ['iptables', 'ip6tables'].flatMap((cmd) =>
      sh(cmd, ['-t', t, '-S'])
        .split('\n')
        .filter((l) => l.includes('KUBE'))
        .map((l) => `${cmd} ${t} ${l}`),
    ),
  );
  return {
    rules: rules.sort(),
    netns: sh('ip', ['netns', 'list']).split('\n').filter(Boolean).sort(),
    bridge: sh('ip', ['-o', 'link', 'show', 'rbk0']).trim(),
  };
}

/** PIDs whose command line names one of these folders, and the node folders they name. */
function processesUnder(prefixes: string[]): {
  pids: number[];
  cmds: Map<number, string>;
  dirs: string[];
} {
  const pids: number[] = [];
  const cmds = new Map<number, string>();
  const dirs = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (!prefixes.some((p) => cmd.includes(p))) continue;
    pids.push(Number(entry));
    cmds.set(Number(entry), cmd.slice(0, 160));
    for (const m of cmd.matchAll(/\/tmp\/kube-node-[A-Za-z0-9]+/g)) dirs.add(m[0]);
  }
  return { pids, cmds, dirs: [...dirs] };
}

test(
  'SIGINT to a running node removes everything it made on the host',
  { timeout: 1_800_000 },
  async () => {
    const before = hostState();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/node/start-node.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    let started: { dir: string; pod: string } | undefined;
    for await (const line of lines) {
      if (line.startsWith('{')) {
        started = JSON.parse(line) as { dir: string; pod: string };
        break;
      }
    }
    assert.ok(started, 'the node started and ran its pod');
    const running = processesUnder([started.dir, '/tmp/kube-node-']);
    assert.ok(
      running.pids.length >= 4,
      `etcd, API server, containerd, kubelet…: ${running.pids.join(' ')}`,
    );
    assert.equal(running.dirs.length, 1, `one node folder: ${running.dirs.join(' ')}`);
    const nodeDir = running.dirs[0] ?? '';
    const cgroup = `/sys/fs/cgroup/memory/${nodeDir.split('/').at(-1)}`;
    assert.ok(existsSync(cgroup), `the node's pods run in ${cgroup}`);
    assert.notEqual(hostState().bridge, '', 'the bridge is up while the node runs');
    assert.equal(
      readFileSync(`${LOCK}/pid`, 'utf8'),
      String(child.pid),
      'the node holds the one-per-machine lock',
    );

    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;

    const left = running.pids.filter(isRunning);
    assert.deepEqual(
      left.map((pid) => `${pid} ${running.cmds.get(pid)}`),
      [],
      'no process of the node is left (control plane, containerd, kubelet, kube-proxy, shims)',
    );
    assert.equal(existsSync(cgroup), false, "the pods' cgroups are removed");
    assert.equal(existsSync(nodeDir), false, "the node's folder is removed");
    assert.equal(existsSync(started.dir), false, "the control plane's folder is removed");
    assert.deepEqual(hostState(), before, 'bridge, network namespaces and iptables as before');
    assert.equal(existsSync(LOCK), false, 'the lock is released for the next node');
  },
);
