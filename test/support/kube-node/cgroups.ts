// The kubelet's cgroup tree on this cgroup v1 machine: `<root>/kubepods/<qos>/pod<uid>/<container>`
// in every controller hierarchy. Used to read a pod's memory high-water mark and to end every
// process of the node at teardown.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const CGROUP = '/sys/fs/cgroup';

function controllers(): string[] {
  return readdirSync(CGROUP).filter((c) => statSync(join(CGROUP, c)).isDirectory());
}

/** Every folder under `dir`, deepest first. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const subs = readdirSync(dir).filter((e) => statSync(join(dir, e)).isDirectory());
  return [...subs.flatMap((s) => tree(join(dir, s))), dir];
}

/** A pod's cgroup (any QoS class) in one hierarchy, or one of its containers' (by ID). */
function podDir(controller: string, root: string, podUid: string, containerId?: string): string {
  const name = `pod${podUid}`;
  const found = tree(join(CGROUP, controller, root)).find((d) => d.endsWith(`/${name}`));
  if (!found) throw new Error(`no ${controller} cgroup for pod ${podUid} under ${root}`);
  return containerId ? join(found, containerId) : found;
}

/** The high-water mark of a pod's (or one container's) memory cgroup, in bytes. */
export function memoryPeakBytes(root: string, podUid: string, containerId?: string): number {
  const dir = podDir('memory', root, podUid, containerId);
  return Number(readFileSync(join(dir, 'memory.max_usage_in_bytes'), 'utf8'));
}

/** The memory limit the kubelet set on a pod's (or container's) cgroup, in bytes. */
export function memoryLimitBytes(root: string, podUid: string, containerId?: string): number {
  const dir = podDir('memory', root, podUid, containerId);
  return Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8'));
}

/** The host PIDs of one container's processes. */
export function containerPids(root: string, podUid: string, containerId: string): number[] {
  return readFileSync(join(podDir('pids', root, podUid, containerId), 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number);
}

/** The kubelet's cgroup root must exist in every hierarchy before it starts. */
export function createCgroup(root: string): void {
  for (const c of controllers()) {
    if (c === 'unified') continue;
    mkdirSync(join(CGROUP, c, root), { recursive: true });
  }
  // A cpuset cgroup takes no process until it has CPUs and memory nodes: its parent's.
  const cpuset = join(CGROUP, 'cpuset');
  if (existsSync(join(cpuset, 'cpuset.cpus')))
    for (const f of ['cpuset.cpus', 'cpuset.mems'])
      writeFileSync(join(cpuset, root, f), readFileSync(join(cpuset, f), 'utf8'));
}

/** SIGKILLs every process in the node's cgroups. */
export function killCgroup(root: string): void {
  for (const dir of tree(join(CGROUP, 'pids', root))) {
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Exited already.
      }
    }
  }
}

/**
 * Removes the node's cgroups in every hierarchy. A killed container stays in its cgroup until it
 * is reaped (after its shim is gone, by init), so this retries, killing again whatever is left,
 * until every folder is gone or `waitMs` passed (a hang guard for processes stuck in the kernel).
 */
export function removeCgroup(root: string, waitMs = 60_000): void {
  const end = Date.now() + waitMs;
  for (;;) {
    let left = 0;
    for (const c of controllers()) {
      for (const dir of tree(join(CGROUP, c, root))) {
        try {
          rmdirSync(dir);
        } catch {
          left++;
        }
      }
    }
    if (left === 0 || Date.now() > end) return;
    killCgroup(root);
    // Teardown is synchronous (it also runs from the process 'exit' hook): block briefly.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}
