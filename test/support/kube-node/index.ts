// A real node beside the test control plane: containerd + runc running the pods, the kubelet,
// kube-proxy for Services, and a CNI bridge whose host address is also where the API server
// listens (pods reach it through the `kubernetes` Service, as in any cluster). The images come
// from test/node/build-images.sh and are imported into containerd; nothing is pulled.
// Traffic stays on this host: loopback, the bridge and the pods' own network namespaces.
// Everything is torn down when stop() runs or the test process ends in any way: the pods'
// processes, mounts, cgroups, kube-proxy's iptables rules and the bridge.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../demo/free-port.js';
import {
  startKubeCluster,
  type KubeCluster,
  type KubeClusterOptions,
} from '../kube-cluster/index.js';
import {
  killAndWait,
  onExit,
  removeOnExit,
  startProc,
  type Proc,
} from '../kube-cluster/processes.js';
import { nodeBinaries, nodeImages, type NodeImages } from './build.js';
import { acquireNodeLock } from './node-lock.js';
import { cniConfig, containerdConfig, kubeletConfig } from './configs.js';
import {
  containerPids,
  createCgroup,
  killCgroup,
  memoryLimitBytes,
  memoryPeakBytes,
  removeCgroup,
} from './cgroups.js';

export const NODE_NAME = 'node-real';
// One real node per machine: kube-proxy owns the host's KUBE-* iptables chains.
const BRIDGE = 'rbk0';
export const POD_CIDR = '10.244.0.0/24';
export const BRIDGE_IP = '10.244.0.1';
const SERVICE_CIDR = '10.96.0.0/24';

export interface NodeCluster extends KubeCluster {
  images: NodeImages;
  /**
   * A pod's (or one of its containers', by ID) memory cgroup high-water mark and limit, in bytes
   * (cgroup v1 memory.max_usage_in_bytes / memory.limit_in_bytes).
   */
  memoryPeak(podUid: string, containerId?: string): number;
  memoryLimit(podUid: string, containerId?: string): number;
  /** Host PIDs of a container's processes. */
  containerPids(podUid: string, containerId: string): number[];
  /** A pod's emptyDir volume on the host. */
  emptyDir(podUid: string, volume: string): string;
  /** `ctr` against this node's containerd (namespace k8s.io). */
  ctr(args: string[]): string;
  nodeLogs(): string;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): void {
  try {
    sh(cmd, args);
  } catch {
    // Teardown goes on: each step is independent.
  }
}

export async function startNodeCluster(
  options: Omit<KubeClusterOptions, 'nodes' | 'bindAddress'> = {},
): Promise<NodeCluster> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'the node suite runs containers: run it as root (containerd, kubelet, iptables)',
    );
  const bin = nodeBinaries();
  const images = nodeImages();
  const releaseLock = await acquireNodeLock((owner) =>
    console.error(`kube-node: waiting for the node of process ${owner} to stop (one per machine)`),
  );
  if (existsSync(`/sys/class/net/${BRIDGE}`)) {
    releaseLock();
    throw new Error(
      `bridge ${BRIDGE} exists: another node suite or playground is running, or one was killed ` +
        `without cleanup. Stop it, or remove the leftovers: ip link del ${BRIDGE}; ` +
        `${join(bin, 'kube-proxy')} --cleanup`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'kube-node-'));
  const cgroupRoot = `/${dir.split('/').at(-1)}`;
  // containerd 1.6 pins each pod's network namespace under /var/run/netns (a fixed path).
  const netnsBefore = new Set(listNetns());
  // The kubelet adds a KUBE-FIREWALL chain (drop non-local traffic to 127.0.0.0/8) to INPUT and
  // OUTPUT; kube-proxy's cleanup leaves it. Remove it at teardown unless it was there before.
  const firewallCmds = ['iptables', 'ip6tables'].filter((cmd) => {
    try {
      sh(cmd, ['-S', 'KUBE-FIREWALL']);
      return false;
    } catch {
      return true;
    }
  });
  const procs: Proc[] = [];
  let torn = false;
  const removeDir = removeOnExit(dir);
  // Synchronous, so it also runs from the process 'exit' hook, before the folder is removed.
  // The lock goes with the process (exit hook), or after the control plane stopped (stop()).
  const teardown = (release = true) => {
    if (torn) return;
    torn = true;
    // Only those still running: an ended one's PID may belong to another process by now.
    killAndWait(
      procs.flatMap((p) =>
        p.child.pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null
          ? []
          : [p.child.pid],
      ),
    );
    // The containers outlive containerd (their shims re-parent them): kill them by cgroup, then
    // their shims and any helper left. Each step runs whatever the others did.
    const steps = [
      () => killCgroup(cgroupRoot),
      () => killNamingDir(dir),
      () => unmountUnder(dir),
      () => removeLogLinks(dir),
      () => removeCgroup(cgroupRoot),
      () => tryRun(join(bin, 'kube-proxy'), ['--cleanup']),
      // The kubelet's canary chains (it checks with them that nobody flushed its rules).
      () => {
        for (const table of ['mangle', 'nat', 'filter'])
          for (const cmd of ['iptables', 'ip6tables'])
            tryRun(cmd, ['-t', table, '-X', 'KUBE-KUBELET-CANARY']);
      },
      () => {
        for (const cmd of firewallCmds) {
          for (const hook of ['INPUT', 'OUTPUT']) tryRun(cmd, ['-D', hook, '-j', 'KUBE-FIREWALL']);
          tryRun(cmd, ['-F', 'KUBE-FIREWALL']);
          tryRun(cmd, ['-X', 'KUBE-FIREWALL']);
        }
      },
      () => tryRun('ip', ['link', 'del', BRIDGE]),
      () => {
        for (const ns of listNetns()) if (!netnsBefore.has(ns)) tryRun('ip', ['netns', 'del', ns]);
      },
    ];
    for (const step of steps) {
      try {
        step();
      } catch {
        // Best effort: the next step still runs.
      }
    }
    removeDir();
    if (release) releaseLock();
  };
  const unhook = onExit(() => teardown());
  let cluster: KubeCluster | undefined;

  try {
    // The bridge first: the API server listens on its host address.
    sh('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${BRIDGE_IP}/24`, 'dev', BRIDGE]);
    sh('ip', ['link', 'set', BRIDGE, 'up']);
    // The host reaches Service addresses over the bridge (kube-proxy DNATs them to pods).
    sh('ip', ['route', 'add', SERVICE_CIDR, 'dev', BRIDGE, 'src', BRIDGE_IP]);
    const started = await startKubeCluster({
      ...options,
      nodes: [],
      bindAddress: BRIDGE_IP,
      // `kubectl logs` goes to the kubelet at the node's address (its host name resolves nowhere).
      apiserverFlags: [
        '--kubelet-preferred-address-types=InternalIP',
        ...(options.apiserverFlags ?? []),
      ],
    });
    cluster = started;
    const node = await startNode(started, bin, images, dir, cgroupRoot, procs);
    return {
      ...started,
      ...node,
      images,
      logs: () => `${started.logs()}\n${node.nodeLogs()}`,
      async stop() {
        teardown(false);
        unhook();
        await started.stop();
        releaseLock();
      },
    };
  } catch (e) {
    teardown(false);
    unhook();
    await cluster?.stop();
    releaseLock();
    throw e;
  }
}

async function startNode(
  cluster: KubeCluster,
  bin: string,
  images: NodeImages,
  dir: string,
  cgroupRoot: string,
  procs: Proc[],
) {
  const socket = join(dir, 'containerd.sock');
  const cniConfDir = join(dir, 'cni');
  mkdirSync(cniConfDir);
  writeFileSync(
    join(cniConfDir, '10-rollback-node.conflist'),
    cniConfig({
      bridge: BRIDGE,
      podCidr: POD_CIDR,
      gateway: BRIDGE_IP,
      serviceCidr: SERVICE_CIDR,
      dir,
    }),
  );
  const containerdToml = join(dir, 'containerd.toml');
  writeFileSync(containerdToml, containerdConfig({ dir, socket, cniConfDir }));
  const log = (name: string) => join(dir, `${name}.log`);
  const containerd = startProc(
    'containerd',
    'containerd',
    ['--config', containerdToml],
    log('containerd'),
  );
  procs.push(containerd);
  const ctr = (args: string[]) =>
    sh('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args]);
  await until(
    () => {
      try {
        ctr(['version']);
        return true;
      } catch {
        return false;
      }
    },
    procs,
    60_000,
    'containerd',
  );
  for (const archive of images.archives) ctr(['images', 'import', archive]);

  createCgroup(cgroupRoot);
  const kubeletDir = join(dir, 'kubelet');
  mkdirSync(kubeletDir);
  const kubeletYaml = join(dir, 'kubelet.json');
  writeFileSync(
    kubeletYaml,
    kubeletConfig({
      socket,
      cgroupRoot,
      address: BRIDGE_IP,
      port: await freePort(),
      healthzPort: await freePort(),
      podCidr: POD_CIDR,
      dir,
    }),
  );
  procs.push(
    startProc(
      'kubelet',
      join(bin, 'kubelet'),
      [
        `--config=${kubeletYaml}`,
        `--kubeconfig=${cluster.kubeletKubeconfigPath}`,
        `--root-dir=${kubeletDir}`,
        `--cert-dir=${join(dir, 'kubelet-pki')}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${BRIDGE_IP}`,
        '--v=1',
      ],
      log('kubelet'),
    ),
  );
  procs.push(
    startProc(
      'kube-proxy',
      join(bin, 'kube-proxy'),
      [
        `--kubeconfig=${cluster.kubeletKubeconfigPath}`,
        `--hostname-override=${NODE_NAME}`,
        '--proxy-mode=iptables',
        `--cluster-cidr=${POD_CIDR}`,
        `--healthz-bind-address=127.0.0.1:${await freePort()}`,
        `--metrics-bind-address=127.0.0.1:${await freePort()}`,
        // Node ports only on the bridge; no conntrack table resize on a shared machine.
        `--nodeport-addresses=${POD_CIDR}`,
        '--conntrack-max-per-core=0',
        '--iptables-localhost-nodeports=false',
        '--v=1',
      ],
      log('kube-proxy'),
    ),
  );
  await until(
    async () => {
      const r = await cluster.http.call('GET', `/api/v1/nodes/${NODE_NAME}`);
      return (
        r.status === 200 &&
        r.body.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
      );
    },
    procs,
    180_000,
    `node ${NODE_NAME} Ready`,
  );
  return {
    ctr,
    memoryPeak: (podUid: string, containerId?: string) =>
      memoryPeakBytes(cgroupRoot, podUid, containerId),
    memoryLimit: (podUid: string, containerId?: string) =>
      memoryLimitBytes(cgroupRoot, podUid, containerId),
    containerPids: (podUid: string, containerId: string) =>
      containerPids(cgroupRoot, podUid, containerId),
    emptyDir: (podUid: string, volume: string) =>
      join(kubeletDir, 'pods', podUid, 'volumes', 'kubernetes.io~empty-dir', volume),
    nodeLogs: () => procs.map((p) => `--- ${p.name}\n${p.tail(20)}`).join('\n'),
  };
}

async function until(
  cond: () => boolean | Promise<boolean>,
  procs: Proc[],
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${dead.tail()}`);
    if (await Promise.resolve(cond()).catch(() => false)) return;
    if (Date.now() > end)
      throw new Error(
        `${what} not there within ${ms} ms:\n${procs.map((p) => `--- ${p.name}\n${p.tail(20)}`).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Every process whose command line names the node's folder: the containerd shims (started with its
 * socket) and what the kubelet or containerd had started when they were killed (a `du` or `mount`
 * of a volume outlives its parent).
 */
function killNamingDir(dir: string): void {
  const pids = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false; // Gone already.
      }
    });
  killAndWait(pids.map(Number));
}

function listNetns(): string[] {
  return existsSync('/var/run/netns')
    ? readdirSync('/var/run/netns').filter((n) => n.startsWith('cni-'))
    : [];
}

/** The kubelet links every container's log into /var/log/containers (a fixed path). */
function removeLogLinks(dir: string): void {
  const links = '/var/log/containers';
  if (!existsSync(links)) return;
  for (const name of readdirSync(links)) {
    try {
      if (readlinkSync(join(links, name)).startsWith(dir)) unlinkSync(join(links, name));
    } catch {
      // Not a link, or gone.
    }
  }
}

/** Everything containerd and the kubelet mounted under the node's folder, deepest first. */
function unmountUnder(dir: string): void {
  let mounts: string[] = [];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .map((m) => m.replace(/\\040/g, ' '))
      .filter((m) => m.startsWith(`${dir}/`));
  } catch {
    return;
  }
  for (const m of mounts.sort((a, b) => b.length - a.length)) tryRun('umount', ['-l', m]);
}
