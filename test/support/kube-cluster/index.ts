// A real Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler (built by test/cluster/build-control-plane.sh) on loopback, with generated
// certificates, RBAC, an audit log, a token-authenticated admin, simulated kubelets on a few
// Ready nodes, and kubeconfigs for the admin or any ServiceAccount (TokenRequest API).
// Everything is removed when stop() runs or the test process ends in any way.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, portTaken } from '../../demo/free-port.js';
import { kubectlPath } from '../tools.js';
import { auditLog, auditPolicy, type AuditLog } from './audit.js';
import { controlPlaneBinaries } from './binaries.js';
import { makeCerts } from './certs.js';
import { kubeHttp, type KubeHttp } from './kube-http.js';
import { waitCrdsEstablished } from './crds.js';
import { createNodes, startKubelets } from './kubelets.js';
import { writeKubeconfig } from './kubeconfig.js';
import { removeOnExit, startProc, type Proc } from './processes.js';
import { createWorkload, getWorkload, setImage, waitRolledOut, waitWorkload } from './workloads.js';
import type { WorkloadKind, WorkloadOptions } from '../fake-kube/types.js';

export { auditLog, touchesTemplate, type AuditEvent, type AuditLog } from './audit.js';
export { rolledOut, workloadManifest, workloadPath } from './workloads.js';

export const ADMIN_USER = 'test-admin';
const CONTROLLER_MANAGER = 'system:kube-controller-manager';
const SCHEDULER = 'system:kube-scheduler';
const KUBELET = 'test-kubelet';
const run = promisify(execFile);

export interface KubeClusterOptions {
  /** Node names (default two). */
  nodes?: string[];
  /** Delay before a new pod reports Ready (default 300 ms). */
  readyDelayMs?: number;
  /** Extra kube-apiserver flags (`--name=value`). */
  apiserverFlags?: string[];
  /**
   * The API server's address (default 127.0.0.1). A real node's pods reach the API server at
   * the host's address on their bridge (test/support/kube-node), so the node suite binds there.
   */
  bindAddress?: string;
}

export interface KubeCluster {
  /** https://127.0.0.1:PORT */
  server: string;
  caPem: string;
  /** The cluster's temporary folder (certs, logs, kubeconfigs; removed on stop). */
  dir: string;
  /** Kubeconfig of the admin (token user `test-admin`, group system:masters). */
  kubeconfigPath: string;
  /** Kubeconfig of the node agents (kubelet, kube-proxy): a user the audit log leaves out. */
  kubeletKubeconfigPath: string;
  /** JSON client as the admin. */
  http: KubeHttp;
  audit: AuditLog;
  nodes: string[];
  /** Real kubectl (see test/support/tools.ts) as the admin, or with another kubeconfig. */
  kubectl(args: string[], o?: { kubeconfig?: string; stdin?: string }): Promise<string>;
  /** `kubectl apply -f -` of YAML or JSON text (as the admin). */
  apply(manifest: string): Promise<string>;
  createNamespace(name: string): Promise<void>;
  /** Creates a workload from the same options as the fake's (a DaemonSet runs on every node). */
  createWorkload(kind: WorkloadKind, ns: string, name: string, o: WorkloadOptions): Promise<any>;
  /** Like `kubectl set image` (all containers when none is named): a new revision. */
  setImage(
    kind: WorkloadKind,
    ns: string,
    name: string,
    image: string,
    container?: string,
  ): Promise<void>;
  /** GET of an apps/v1 object (Deployment, StatefulSet, DaemonSet, ReplicaSet, ControllerRevision). */
  get(kind: string, ns: string, name: string): Promise<any>;
  /** Polls until `predicate(object)` holds (default 60 s); returns the object. */
  waitFor(
    kind: string,
    ns: string,
    name: string,
    predicate: (o: any) => boolean,
    ms?: number,
  ): Promise<any>;
  /** Polls until `kubectl rollout status` would say the rollout is complete. */
  waitRolledOut(kind: string, ns: string, name: string, ms?: number): Promise<any>;
  /** Polls until the CRDs named (all CRDs when none are) are Established (default 60 s). */
  waitCrdsEstablished(names?: string[], ms?: number): Promise<void>;
  /**
   * A kubeconfig for a ServiceAccount, with a token from the TokenRequest API. Its user in the
   * audit log is `system:serviceaccount:<namespace>:<name>`.
   */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /**
   * Freezes the kube-controller-manager (SIGSTOP), as during its restart or a leader hand-over:
   * the API server accepts changes nobody processes. The returned function thaws it (SIGCONT).
   */
  freezeControllerManager(): () => void;
  /** Process logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startKubeCluster(options: KubeClusterOptions = {}): Promise<KubeCluster> {
  const bin = controlPlaneBinaries();
  // A port picked free can still be taken before etcd or the API server binds it: start again.
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'kube-cluster-'));
    const removeDir = removeOnExit(dir);
    const procs: Proc[] = [];
    const stopAll = async () => {
      for (const p of [...procs].reverse()) await p.stop();
    };
    try {
      return await start(bin, dir, options, procs, async () => {
        await stopAll();
        removeDir();
      });
    } catch (e) {
      await stopAll();
      removeDir();
      if (attempt < 3 && portTaken(e)) continue;
      throw e;
    }
  }
}

async function start(
  bin: string,
  dir: string,
  options: KubeClusterOptions,
  procs: Proc[],
  cleanup: () => Promise<void>,
): Promise<KubeCluster> {
  const host = options.bindAddress ?? '127.0.0.1';
  const certs = makeCerts(dir, host === '127.0.0.1' ? [] : [host]);
  const tokens = {
    admin: randomBytes(24).toString('hex'),
    cm: randomBytes(24).toString('hex'),
    scheduler: randomBytes(24).toString('hex'),
    kubelet: randomBytes(24).toString('hex'),
  };
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(
    tokenFile,
    [
      `${tokens.admin},${ADMIN_USER},uid-admin,"system:masters"`,
      `${tokens.cm},${CONTROLLER_MANAGER},uid-cm,"system:masters"`,
      `${tokens.scheduler},${SCHEDULER},uid-scheduler,"system:masters"`,
      `${tokens.kubelet},${KUBELET},uid-kubelet,"system:masters"`,
    ].join('\n') + '\n',
    { mode: 0o600 },
  );
  const policyFile = join(dir, 'audit-policy.json');
  writeFileSync(
    policyFile,
    auditPolicy([CONTROLLER_MANAGER, SCHEDULER, KUBELET, 'system:apiserver']),
  );
  const auditPath = join(dir, 'audit.log');
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://${host}:${apiPort}`;
  const log = (name: string) => join(dir, `${name}.log`);

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  procs.push(
    startProc(
      'etcd',
      join(bin, 'etcd'),
      [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        // A throwaway store: no fsync keeps a busy test machine's disk out of the timings.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      log('etcd'),
    ),
  );

  procs.push(
    startProc(
      'kube-apiserver',
      join(bin, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        `--bind-address=${host}`,
        `--advertise-address=${host}`,
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${certs.serverCert}`,
        `--tls-private-key-file=${certs.serverKey}`,
        `--client-ca-file=${certs.caCert}`,
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${certs.saPub}`,
        `--service-account-signing-key-file=${certs.saKey}`,
        '--service-cluster-ip-range=10.96.0.0/24',
        // No real kubelets post node conditions: the harness marks its nodes Ready itself, so
        // the not-ready taint this plugin adds at creation would never be lifted.
        '--disable-admission-plugins=TaintNodesByCondition',
        `--audit-policy-file=${policyFile}`,
        `--audit-log-path=${auditPath}`,
        '--audit-log-mode=blocking',
        '--enable-priority-and-fairness=false',
        '--profiling=false',
        '--allow-privileged=true',
        ...(options.apiserverFlags ?? []),
      ],
      log('kube-apiserver'),
    ),
  );

  const http = kubeHttp(server, certs.caPem, tokens.admin);
  await waitReady(http, procs, 120_000);

  const kubeconfigFor = (name: string, token: string, user: string) =>
    writeKubeconfig(join(dir, `${name}.kubeconfig`), { server, caPem: certs.caPem, token, user });
  procs.push(
    startProc(
      'kube-controller-manager',
      join(bin, 'kube-controller-manager'),
      [
        `--kubeconfig=${kubeconfigFor('controller-manager', tokens.cm, CONTROLLER_MANAGER)}`,
        '--leader-elect=false',
        '--secure-port=0',
        // Node lifecycle: no real kubelets renew node Leases, so it would mark the nodes
        // unreachable and evict every pod after five minutes. The harness keeps nodes Ready.
        '--controllers=*,-nodelifecycle',
        `--service-account-private-key-file=${certs.saKey}`,
        `--root-ca-file=${certs.caCert}`,
        '--kube-api-qps=200',
        '--kube-api-burst=400',
      ],
      log('kube-controller-manager'),
    ),
  );
  procs.push(
    startProc(
      'kube-scheduler',
      join(bin, 'kube-scheduler'),
      [
        `--kubeconfig=${kubeconfigFor('scheduler', tokens.scheduler, SCHEDULER)}`,
        '--leader-elect=false',
        '--secure-port=0',
        '--kube-api-qps=200',
        '--kube-api-burst=400',
      ],
      log('kube-scheduler'),
    ),
  );

  const nodes = options.nodes ?? ['node-1', 'node-2'];
  await createNodes(http, nodes);
  const kubelets = startKubelets(kubeHttp(server, certs.caPem, tokens.kubelet), {
    nodes,
    ...(options.readyDelayMs !== undefined ? { readyDelayMs: options.readyDelayMs } : {}),
  });
  const kubeletKubeconfigPath = kubeconfigFor('kubelet', tokens.kubelet, KUBELET);
  // The controller manager is working once it has made the default ServiceAccount.
  await waitFor(
    async () =>
      (await http.call('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    procs,
    120_000,
    'the default ServiceAccount (kube-controller-manager running)',
  );

  const kubeconfigPath = kubeconfigFor('admin', tokens.admin, ADMIN_USER);
  const cacheDir = join(dir, 'kubectl-cache');
  mkdirSync(cacheDir);
  const kubectl: KubeCluster['kubectl'] = async (args, o = {}) => {
    const child = run(
      kubectlPath(),
      ['--kubeconfig', o.kubeconfig ?? kubeconfigPath, '--cache-dir', cacheDir, ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    if (o.stdin !== undefined) child.child.stdin?.end(o.stdin);
    try {
      return (await child).stdout;
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`kubectl ${args.join(' ')}: ${err.stderr || err.message}`);
    }
  };
  let saCount = 0;

  return {
    server,
    caPem: certs.caPem,
    dir,
    kubeconfigPath,
    kubeletKubeconfigPath,
    http,
    audit: auditLog(auditPath),
    nodes,
    kubectl,
    apply: (manifest) => kubectl(['apply', '-f', '-'], { stdin: manifest }),
    async createNamespace(name) {
      await http.ok('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
      });
    },
    createWorkload: (kind, ns, name, o) => createWorkload(http, kind, ns, name, o),
    setImage: (kind, ns, name, image, container) =>
      setImage(http, kind, ns, name, image, container),
    get: (kind, ns, name) => getWorkload(http, kind, ns, name),
    waitFor: (kind, ns, name, predicate, ms) => waitWorkload(http, kind, ns, name, predicate, ms),
    waitRolledOut: (kind, ns, name, ms) => waitRolledOut(http, kind, ns, name, ms),
    waitCrdsEstablished: (names, ms) => waitCrdsEstablished(http, names, ms),
    async serviceAccountKubeconfig(namespace, name) {
      const r = await http.ok(
        'POST',
        `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
      );
      return writeKubeconfig(join(dir, `sa-${++saCount}-${namespace}-${name}.kubeconfig`), {
        server,
        caPem: certs.caPem,
        token: r.status.token as string,
        user: `system:serviceaccount:${namespace}:${name}`,
        namespace,
      });
    },
    freezeControllerManager() {
      const cm = procs.find((p) => p.name === 'kube-controller-manager');
      if (!cm) throw new Error('no kube-controller-manager process');
      cm.child.kill('SIGSTOP');
      return () => void cm.child.kill('SIGCONT');
    },
    logs: () => procs.map((p) => `--- ${p.name}\n${p.tail(15)}`).join('\n'),
    async stop() {
      kubelets.stop();
      await cleanup();
    },
  };
}

async function waitFor(
  cond: () => Promise<boolean>,
  procs: Proc[],
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${dead.tail()}`);
    if (await cond().catch(() => false)) return;
    if (Date.now() > end)
      throw new Error(
        `${what} not there within ${ms} ms:\n${procs.map((p) => `--- ${p.name}\n${p.tail(10)}`).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

function waitReady(http: KubeHttp, procs: Proc[], ms: number): Promise<void> {
  return waitFor(
    async () => (await http.call('GET', '/readyz')).status === 200,
    procs,
    ms,
    'kube-apiserver /readyz',
  );
}
