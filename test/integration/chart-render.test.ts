// The Helm chart through the real helm binary: lint and template with the default values, with
// everything switched on (test/fixtures/chart/values-full.yaml) and with values the schema must
// reject; then the rendered objects are read the way a reviewer would: security context, probes,
// least-privilege RBAC, and a config the controller itself accepts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { startFakeKube } from '../support/fake-kube/index.js';
import { helmPath } from '../support/tools.js';
import { SPEC_RULES } from '../support/spec-rules.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const chart = join(root, 'charts', 'rollback-controller');
const fullValues = join(root, 'test', 'fixtures', 'chart', 'values-full.yaml');
const invalidValues = join(root, 'test', 'fixtures', 'chart', 'values-invalid.yaml');

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  image: string;
  ports: Array<{ name: string; containerPort: number }>;
  env: EnvVar[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: SecurityContext;
  volumeMounts: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  emptyDir?: object;
  configMap?: { name: string };
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
}
interface Workload extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: Meta;
      spec: {
        serviceAccountName: string;
        securityContext: SecurityContext & { fsGroup?: number };
        containers: Container[];
        volumes: Volume[];
      };
    };
    volumeClaimTemplates?: Array<{
      metadata: { name: string };
      spec: {
        storageClassName?: string;
        accessModes: string[];
        resources: { requests: { storage: string } };
      };
    }>;
  };
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Role extends K8sObject {
  rules: PolicyRule[];
}
interface Binding extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects: Array<{ kind: string; name: string; namespace: string }>;
}
interface ConfigMap extends K8sObject {
  data: Record<string, string>;
}
interface Secret extends K8sObject {
  data: Record<string, string>;
}

/** group → resource → verbs the executors use (contract.md "Delivered with it": least privilege). */
const ALLOWED: Record<string, Record<string, string[]>> = {
  // list + watch: the watch cache planning reads from (operations.md "Watch cache").
  apps: {
    deployments: ['get', 'list', 'watch', 'patch'],
    statefulsets: ['get', 'list', 'watch', 'patch'],
    daemonsets: ['get', 'list', 'watch', 'patch'],
    replicasets: ['get', 'list', 'watch'],
    controllerrevisions: ['get', 'list', 'watch'],
  },
  'events.k8s.io': { events: ['create'] },
  'coordination.k8s.io': { leases: ['get', 'create', 'update'] },
  // get: HA only (a follower checks the Lease holder's own pod address before forwarding to it);
  // list: a StatefulSet rollback stuck on a pod names it; delete: policy.deleteStuckPods only.
  '': { events: ['create'], pods: ['get', 'list', 'delete'] },
  // Only with gitops.argocd.enabled / gitops.flux.enabled.
  'argoproj.io': { applications: ['get', 'patch'], applicationsets: ['get'] },
  'helm.toolkit.fluxcd.io': { helmreleases: ['get', 'patch'] },
};
const GITOPS_GROUPS = new Set(['argoproj.io', 'helm.toolkit.fluxcd.io']);

/** contract.md "Rules": the shipped defaults. */

let helmHome: string;
let helmEnv: NodeJS.ProcessEnv;

async function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(helmPath(), args, {
      env: helmEnv,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function template(namespace: string, ...extra: string[]): Promise<K8sObject[]> {
  const result = await helm(['template', 'rc', chart, '--namespace', namespace, ...extra]);
  assert.equal(result.code, 0, `helm template failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      assert.deepEqual(doc.errors, [], 'rendered YAML must parse');
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function all<T extends K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

function one<T extends K8sObject>(objects: K8sObject[], kind: string, name?: string): T {
  const found = all<T>(objects, kind).filter((o) => name === undefined || o.metadata.name === name);
  assert.equal(
    found.length,
    1,
    `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`,
  );
  return found[0];
}

function env(container: Container, name: string): string | undefined {
  return container.env.find((e) => e.name === name)?.value;
}

/** The downward-API field an env var is taken from. */
function fieldRef(container: Container, name: string): string | undefined {
  return container.env.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
}

/** Leader election is wired: the flag, a Lease per release, and who and where the pod is. */
function assertLeaderElectionEnv(c: Container): void {
  assert.equal(env(c, 'ROLLBACK_LEADER_ELECTION'), 'true');
  assert.equal(env(c, 'ROLLBACK_LEASE_NAME'), 'rc-rollback-controller');
  assert.equal(fieldRef(c, 'POD_NAME'), 'metadata.name');
  assert.equal(fieldRef(c, 'POD_NAMESPACE'), 'metadata.namespace');
  assert.equal(fieldRef(c, 'POD_IP'), 'status.podIP', 'the leader publishes http://POD_IP:PORT');
}

/** Every RBAC rule stays inside ALLOWED: no wildcard, no extra verb, resource or group. */
function assertLeastPrivilege(roles: Role[]): void {
  assert.ok(roles.length > 0, 'no RBAC roles rendered');
  for (const role of roles) {
    for (const rule of role.rules) {
      const where = `${role.kind} ${role.metadata.name}: ${JSON.stringify(rule)}`;
      assert.equal(rule.nonResourceURLs, undefined, where);
      for (const group of rule.apiGroups) {
        assert.notEqual(group, '*', where);
        const groupAllowed = ALLOWED[group];
        assert.ok(groupAllowed, `API group "${group}" is not needed: ${where}`);
        for (const resource of rule.resources) {
          const verbs = groupAllowed[resource];
          assert.ok(verbs, `resource ${resource} in "${group}" is not needed: ${where}`);
          for (const verb of rule.verbs) {
            assert.ok(verbs.includes(verb), `verb ${verb} on ${resource} is not needed: ${where}`);
          }
        }
      }
    }
  }
}

/** The verbs granted per "group/resource" across roles. */
function granted(roles: Role[]): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const rule of roles.flatMap((r) => r.rules)) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = `${group}/${resource}`;
        const verbs = map.get(key) ?? new Set<string>();
        for (const verb of rule.verbs) verbs.add(verb);
        map.set(key, verbs);
      }
    }
  }
  return map;
}

function assertControllerContainer(workload: Workload): Container {
  const pod = workload.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 10001);
  assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  assert.equal(c.securityContext.runAsNonRoot, true);
  assert.equal(c.securityContext.runAsUser, 10001);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
  assert.deepEqual(c.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  assert.equal(env(c, 'PORT'), '8080');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.livenessProbe.httpGet.port, 'http');
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.readinessProbe.httpGet.port, 'http');
  assert.ok(c.resources.requests?.['cpu'] && c.resources.requests['memory'], 'resource requests');
  assert.ok(c.resources.limits?.['memory'], 'memory limit');

  const mount = (path: string) => c.volumeMounts.find((m) => m.mountPath === path);
  // The config file is the ConfigMap's config.yaml.
  assert.equal(env(c, 'ROLLBACK_CONFIG'), '/etc/rollback-controller/config.yaml');
  const configMount = mount('/etc/rollback-controller/config.yaml');
  assert.equal(configMount?.subPath, 'config.yaml');
  const configVolume = pod.volumes.find((v) => v.name === configMount.name);
  assert.equal(configVolume?.configMap?.name, 'rc-rollback-controller');
  // With a read-only root, the data dir and /tmp must be writable mounts.
  assert.equal(env(c, 'ROLLBACK_DATA_DIR'), '/var/lib/rollback-controller');
  const dataMount = mount('/var/lib/rollback-controller');
  assert.ok(dataMount && !dataMount.readOnly, 'data dir mounted read-write');
  const tmpMount = mount('/tmp');
  assert.ok(tmpMount, '/tmp mounted');
  assert.ok(pod.volumes.find((v) => v.name === tmpMount.name)?.emptyDir, '/tmp is an emptyDir');
  // Secrets arrive as files in a mounted Secret, never as literal env values.
  const secretMount = mount('/etc/rollback-controller/secrets');
  assert.equal(secretMount?.readOnly, true);
  assert.equal(
    env(c, 'ROLLBACK_WEBHOOK_SECRET_FILE'),
    '/etc/rollback-controller/secrets/webhook-secret',
  );
  for (const name of ['ROLLBACK_WEBHOOK_SECRET', 'SLACK_WEBHOOK_URL', 'ROLLBACK_OPERATOR_SECRET']) {
    assert.equal(env(c, name), undefined, `${name} must come from a file`);
  }
  const annotations = workload.spec.template.metadata.annotations ?? {};
  assert.match(annotations['checksum/config'] ?? '', /^[a-f0-9]{64}$/);
  assert.match(annotations['checksum/secret'] ?? '', /^[a-f0-9]{64}$/);
  return c;
}

function assertConfigValid(objects: K8sObject[]) {
  const cm = one<ConfigMap>(objects, 'ConfigMap', 'rc-rollback-controller');
  const text = cm.data['config.yaml'];
  assert.ok(text, 'ConfigMap has config.yaml');
  const parsed = configSchema.safeParse(parseYaml(text));
  assert.ok(parsed.success, `config.yaml is invalid:\n${JSON.stringify(parsed.error?.issues)}`);
  return parsed.data;
}

before(() => {
  // A private helm home so parallel runs and the developer's own helm config never interfere.
  helmHome = mkdtempSync(join(tmpdir(), 'chart-test-helm-'));
  helmEnv = {
    ...process.env,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
});

after(() => rmSync(helmHome, { recursive: true, force: true }));

describe('helm lint', () => {
  test('passes with the default values', async () => {
    const result = await helm(['lint', '--strict', chart]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('passes with every option enabled', async () => {
    const result = await helm(['lint', '--strict', chart, '--values', fullValues]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test('rejects values that break values.schema.json, naming each offending key', async () => {
    const result = await helm(['lint', chart, '--values', invalidValues]);
    assert.notEqual(result.code, 0, 'helm lint accepted invalid values');
    const output = result.stdout + result.stderr;
    assert.match(output, /\/replicaCount/);
    assert.match(output, /\/config\/rules\/0\/confidence/);
    assert.match(output, /\/config\/policy\/maxRevisionAgeSeconds/);
    assert.match(output, /\/config\/policy\/deniedNamespaces\/0/);
  });

  test('rejects an unknown top-level key (a typo would otherwise be ignored)', async () => {
    const result = await helm(['lint', chart, '--set', 'replicas=2']);
    assert.notEqual(result.code, 0, 'helm lint accepted an unknown key');
    assert.match(result.stdout + result.stderr, /replicas/);
  });
});

describe('helm template with the default values', () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await template('apps');
  });

  test('renders the core objects and none of the optional ones', () => {
    const kinds = objects.map((o) => o.kind).sort();
    assert.deepEqual(kinds, [
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'Role',
      'RoleBinding',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
    for (const o of objects) assert.equal(o.metadata.namespace, 'apps', `${o.kind} namespace`);
  });

  test('the Deployment runs locked down, with probes and resources', () => {
    const deployment = one<Workload>(objects, 'Deployment');
    assert.equal(deployment.spec.replicas, 1);
    const c = assertControllerContainer(deployment);
    assert.equal(c.image, 'rollback-controller:0.1.0');
    assert.equal(
      env(c, 'SLACK_WEBHOOK_URL_FILE'),
      '/etc/rollback-controller/secrets/slack-webhook-url',
    );
    assert.equal(
      env(c, 'ROLLBACK_OPERATOR_SECRET_FILE'),
      '/etc/rollback-controller/secrets/operator-secret',
      'operator credentials by default: approve and resume are a human step',
    );
    assert.equal(env(c, 'ROLLBACK_LEADER_ELECTION'), undefined, 'one replica elects no leader');
    assert.equal(fieldRef(c, 'POD_IP'), undefined);
    const pod = deployment.spec.template.spec;
    const data = pod.volumes.find((v) => v.name === 'data');
    assert.ok(data?.emptyDir, 'journal on an emptyDir without persistence');
    assert.equal(pod.serviceAccountName, one(objects, 'ServiceAccount').metadata.name);
  });

  test('the Service reaches the pods on the http port', () => {
    const service = one<
      K8sObject & { spec: { selector: Record<string, string>; ports: unknown[] } }
    >(objects, 'Service');
    const podLabels = one<Workload>(objects, 'Deployment').spec.template.metadata.labels ?? {};
    for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(podLabels[k], v);
    assert.deepEqual(service.spec.ports, [
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
    ]);
  });

  test('the generated Secret holds every file the pod reads', () => {
    const secret = one<Secret>(objects, 'Secret');
    const c = one<Workload>(objects, 'Deployment').spec.template.spec.containers[0];
    for (const name of [
      'ROLLBACK_WEBHOOK_SECRET_FILE',
      'SLACK_WEBHOOK_URL_FILE',
      'ROLLBACK_OPERATOR_SECRET_FILE',
    ]) {
      const key = env(c, name)!.split('/').pop()!;
      assert.ok(key in secret.data, `Secret lacks ${key} for ${name}`);
    }
    const generated = Buffer.from(secret.data['webhook-secret'], 'base64').toString();
    assert.ok(generated.length >= 32, 'a generated webhook secret is long');
    // Approve and resume are a human's: an operator secret by default, distinct from Alertmanager's.
    assert.equal(env(c, 'ROLLBACK_OPERATOR_USER'), 'operator');
    const operator = Buffer.from(secret.data['operator-secret'], 'base64').toString();
    assert.ok(operator.length >= 32, 'a generated operator secret is long');
    assert.notEqual(operator, generated);
  });

  test('RBAC is namespaced, least privilege, and grants what the executors need', () => {
    assert.equal(all(objects, 'ClusterRole').length, 0);
    assert.equal(all(objects, 'ClusterRoleBinding').length, 0);
    const roles = all<Role>(objects, 'Role');
    assertLeastPrivilege(roles);
    const verbs = granted(roles);
    assert.ok(!verbs.has('coordination.k8s.io/leases'), 'no Lease access without leader election');
    assert.deepEqual(
      [...(verbs.get('/pods') ?? [])],
      ['list'],
      'pods: only listed (to name a stuck StatefulSet pod); no get without leader election, no delete without policy.deleteStuckPods',
    );
    for (const group of GITOPS_GROUPS)
      assert.ok(
        ![...verbs.keys()].some((k) => k.startsWith(`${group}/`)),
        `no ${group} by default`,
      );
    for (const [group, resources] of Object.entries(ALLOWED)) {
      if (group === 'coordination.k8s.io' || GITOPS_GROUPS.has(group)) continue;
      for (const [resource, needed] of Object.entries(resources)) {
        if (group === '' && resource === 'pods') continue;
        assert.deepEqual(
          [...(verbs.get(`${group}/${resource}`) ?? [])].sort(),
          [...needed].sort(),
          `${group}/${resource}`,
        );
      }
    }
    for (const binding of all<Binding>(objects, 'RoleBinding')) {
      assert.equal(binding.roleRef.kind, 'Role');
      assert.deepEqual(binding.subjects, [
        { kind: 'ServiceAccount', name: 'rc-rollback-controller', namespace: 'apps' },
      ]);
    }
  });

  test('config.yaml is a valid controller config with the SPEC rules and policy defaults', () => {
    const config = assertConfigValid(objects);
    assert.deepEqual(
      config.rules?.map((r) => [r.alert, r.trigger, r.confidence, r.autoRollback]),
      SPEC_RULES.map((r) => [...r]),
    );
    for (const rule of config.rules ?? []) {
      assert.equal(rule.script, undefined);
      // Only critical alerts may roll anything back.
      assert.deepEqual(rule.matchers, ['severity="critical"'], rule.alert);
    }
    // values.yaml spells the defaults out; they must be the schema's, not a drifted copy.
    const defaults = configSchema.parse({});
    assert.deepEqual(config.policy, defaults.policy);
    assert.deepEqual(config.rollout, defaults.rollout);
    assert.deepEqual(config.verification, defaults.verification);
  });
});

describe('helm template with every option enabled', () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await template('ops', '--values', fullValues);
  });

  test('persistence makes each replica a StatefulSet pod with its own volume', () => {
    assert.equal(all(objects, 'Deployment').length, 0);
    const sts = one<Workload>(objects, 'StatefulSet');
    assert.equal(sts.spec.replicas, 2);
    const c = assertControllerContainer(sts);
    assert.equal(
      c.image,
      'registry.example.com/platform/rollback-controller@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    const claims = sts.spec.volumeClaimTemplates ?? [];
    assert.equal(claims.length, 1);
    const dataMount = c.volumeMounts.find((m) => m.mountPath === '/var/lib/rollback-controller');
    assert.equal(claims[0].metadata.name, dataMount?.name);
    assert.equal(claims[0].spec.storageClassName, 'fast-ssd');
    assert.equal(claims[0].spec.resources.requests.storage, '2Gi');
    assert.ok(
      !sts.spec.template.spec.volumes.some((v) => v.name === dataMount?.name),
      'the claim, not a pod volume, backs the data dir',
    );
  });

  test('policy.deleteStuckPods: true grants pods delete, and reaches the config', async () => {
    const withDelete = await template(
      'ops',
      '--values',
      fullValues,
      '--set',
      'config.policy.deleteStuckPods=true',
    );
    const roles = (o: K8sObject[]) => [...all<Role>(o, 'Role'), ...all<Role>(o, 'ClusterRole')];
    assert.ok(granted(roles(withDelete)).get('/pods')?.has('delete'));
    assert.ok(granted(roles(objects)).get('/pods')?.has('list'));
    assert.ok(!granted(roles(objects)).get('/pods')?.has('delete'));
    const config = configSchema.parse(
      parseYaml(
        one<ConfigMap>(withDelete, 'ConfigMap', 'rc-rollback-controller').data['config.yaml'],
      ),
    );
    assert.equal(config.policy.deleteStuckPods, true);
  });

  test('operator credentials and the existing Secret are wired in', () => {
    assert.equal(all(objects, 'Secret').length, 0, 'no Secret with existingSecret');
    const pod = one<Workload>(objects, 'StatefulSet').spec.template.spec;
    const secretVolume = pod.volumes.find((v) => v.secret);
    assert.equal(secretVolume?.secret?.secretName, 'rollback-controller-credentials');
    const c = pod.containers[0];
    assert.equal(env(c, 'ROLLBACK_OPERATOR_USER'), 'oncall');
    assert.equal(
      env(c, 'ROLLBACK_OPERATOR_SECRET_FILE'),
      '/etc/rollback-controller/secrets/operator-secret',
    );
    assert.equal(env(c, 'LOG_LEVEL'), 'debug');
  });

  test('a PodDisruptionBudget covers the replicas', () => {
    const pdb = one<
      K8sObject & { spec: { minAvailable: number; selector: { matchLabels: object } } }
    >(objects, 'PodDisruptionBudget');
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(
      pdb.spec.selector.matchLabels,
      one<Workload>(objects, 'StatefulSet').spec.selector.matchLabels,
    );
  });

  test('two replicas elect a leader: env from the downward API, Lease and workload verbs', () => {
    const c = one<Workload>(objects, 'StatefulSet').spec.template.spec.containers[0];
    assertLeaderElectionEnv(c);
    const leaseRole = one<Role>(objects, 'Role', 'rc-rollback-controller-leader-election');
    assert.equal(leaseRole.metadata.namespace, 'ops', 'the release namespace');
    assert.deepEqual([...(granted([leaseRole]).get('coordination.k8s.io/leases') ?? [])].sort(), [
      'create',
      'get',
      'update',
    ]);
    const leaseRules = leaseRole.rules.filter((r) => r.resources.includes('leases'));
    for (const rule of leaseRules.filter((r) => !r.verbs.includes('create')))
      assert.deepEqual(rule.resourceNames, ['rc-rollback-controller'], 'only its own Lease');
    assert.deepEqual([...(granted([leaseRole]).get('/pods') ?? [])], ['get'], "replicas' pods");
    const binding = one<Binding>(objects, 'RoleBinding', 'rc-rollback-controller-leader-election');
    assert.equal(binding.roleRef.name, leaseRole.metadata.name);
    // Adopting a dead leader's jobs lists marked workloads and patches the marks away.
    const workloadVerbs = granted([one<Role>(objects, 'ClusterRole')]);
    for (const kind of ['deployments', 'statefulsets', 'daemonsets']) {
      const verbs = workloadVerbs.get(`apps/${kind}`) ?? new Set();
      for (const verb of ['get', 'list', 'patch']) assert.ok(verbs.has(verb), `${verb} ${kind}`);
    }
  });

  test('cluster-wide RBAC stays least privilege; the Lease Role stays in its namespace', () => {
    const clusterRole = one<Role>(objects, 'ClusterRole');
    const binding = one<Binding>(objects, 'ClusterRoleBinding');
    assert.equal(binding.roleRef.name, clusterRole.metadata.name);
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'rc-rollback-controller', namespace: 'ops' },
    ]);
    assert.ok(!granted([clusterRole]).has('coordination.k8s.io/leases'), 'no cluster-wide leases');
    const roles = all<Role>(objects, 'Role');
    assert.equal(roles.length, 1);
    assert.equal(roles[0].metadata.namespace, 'ops');
    assert.deepEqual([...granted(roles).keys()].sort(), ['/pods', 'coordination.k8s.io/leases']);
    assert.deepEqual([...(granted(roles).get('/pods') ?? [])], ['get'], 'read its replicas only');
    assertLeastPrivilege([clusterRole, ...roles]);
  });

  test('the ServiceMonitor scrapes /metrics on the Service', () => {
    const monitor = one<
      K8sObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          endpoints: Array<{ port: string; path: string }>;
        };
      }
    >(objects, 'ServiceMonitor');
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(monitor.metadata.labels?.['release'], 'kube-prometheus-stack');
    const serviceLabels = one(objects, 'Service').metadata.labels ?? {};
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(serviceLabels[k], v);
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => [e.port, e.path]),
      [['http', '/metrics']],
    );
  });

  test('the PrometheusRule is files/prometheus-rules.yaml, unchanged', () => {
    const rule = one<K8sObject & { spec: unknown }>(objects, 'PrometheusRule');
    const file = parseYaml(
      readFileSync(join(chart, 'files', 'prometheus-rules.yaml'), 'utf8'),
    ) as unknown;
    assert.deepEqual(rule.spec, file);
  });

  test('the dashboard ConfigMap carries the sidecar label and files/dashboard.json', () => {
    const cm = one<ConfigMap>(objects, 'ConfigMap', 'rc-rollback-controller-dashboard');
    assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
    assert.equal(cm.metadata.annotations?.['grafana_folder'], 'Rollbacks');
    const file = JSON.parse(
      readFileSync(join(chart, 'files', 'dashboard.json'), 'utf8'),
    ) as unknown;
    assert.deepEqual(JSON.parse(cm.data['rollback-controller.json']), file);
  });

  test('the AlertmanagerConfig sends critical alerts to the webhook with basic auth', () => {
    const amc = one<
      K8sObject & {
        spec: {
          route: { receiver: string; groupBy: string[]; matchers: unknown[] };
          receivers: Array<{ name: string; webhookConfigs: Array<Record<string, unknown>> }>;
        };
      }
    >(objects, 'AlertmanagerConfig');
    assert.equal(amc.apiVersion, 'monitoring.coreos.com/v1alpha1');
    assert.deepEqual(amc.spec.route.groupBy, ['alertname', 'namespace', 'deployment']);
    assert.deepEqual(amc.spec.route.matchers, [
      { name: 'severity', value: 'critical', matchType: '=' },
    ]);
    const receiver = amc.spec.receivers.find((r) => r.name === amc.spec.route.receiver);
    assert.ok(receiver, 'the route names a defined receiver');
    assert.deepEqual(receiver.webhookConfigs, [
      {
        url: 'http://rc-rollback-controller.ops.svc:8080/api/admin/rollback/trigger',
        sendResolved: true,
        httpConfig: {
          basicAuth: {
            username: { name: 'rollback-controller-credentials', key: 'webhook-user' },
            password: { name: 'rollback-controller-credentials', key: 'webhook-secret' },
          },
        },
      },
    ]);
  });

  test('the custom config is still valid for the controller', () => {
    const config = assertConfigValid(objects);
    assert.deepEqual(
      config.rules?.map((r) => r.alert),
      ['CriticalErrorRate', 'CheckoutLatencyHigh', 'LegacyBatchBroken'],
    );
    assert.equal(config.policy.cooldownSeconds, 900);
    assert.equal(config.policy.maxRevisionAgeSeconds, 3600);
    assert.deepEqual(config.policy.allowedNamespaces, ['shop', 'payments']);
  });
});

describe('helm template with individual settings', () => {
  test('gitops.argocd / gitops.flux grant Applications and HelmReleases access, only where asked', async () => {
    const objects = await template(
      'ops',
      '--set',
      'rbac.namespaces={shop}',
      '--set',
      'gitops.argocd.enabled=true',
      '--set',
      'gitops.flux.enabled=true',
      '--set',
      'gitops.flux.namespaces={flux-system}',
    );
    const roles = all<Role>(objects, 'Role');
    assertLeastPrivilege(roles);
    const argo = one<Role>(objects, 'Role', 'rc-rollback-controller-argocd');
    assert.equal(argo.metadata.namespace, 'argocd');
    assert.deepEqual(Object.fromEntries([...granted([argo])].map(([k, v]) => [k, [...v].sort()])), {
      'argoproj.io/applications': ['get', 'patch'],
      'argoproj.io/applicationsets': ['get'],
    });
    const flux = one<Role>(objects, 'Role', 'rc-rollback-controller-flux');
    assert.equal(flux.metadata.namespace, 'flux-system');
    assert.deepEqual([...granted([flux]).keys()], ['helm.toolkit.fluxcd.io/helmreleases']);
    const shop = roles.find((r) => r.metadata.namespace === 'shop');
    assert.deepEqual(
      [...(granted(shop ? [shop] : []).get('helm.toolkit.fluxcd.io/helmreleases') ?? [])].sort(),
      ['get', 'patch'],
    );
    for (const b of all<Binding>(objects, 'RoleBinding'))
      assert.equal(b.subjects[0]?.name, 'rc-rollback-controller');
    const config = assertConfigValid(objects);
    assert.deepEqual(config.policy.owners.argocdNamespaces, ['argocd']);
  });

  test('kubeconfig.secretName and .context: another cluster through a mounted kubeconfig', async () => {
    const plain = one<Workload>(await template('ops'), 'Deployment');
    assert.equal(env(plain.spec.template.spec.containers[0], 'KUBECONFIG'), undefined);
    const objects = await template(
      'ops',
      '--set',
      'kubeconfig.secretName=prod-kubeconfig',
      '--set',
      'kubeconfig.context=prod-eu',
    );
    const pod = one<Workload>(objects, 'Deployment').spec.template.spec;
    const c = pod.containers[0];
    assert.equal(env(c, 'KUBECONFIG'), '/etc/rollback-controller/kubeconfig/config');
    assert.equal(env(c, 'ROLLBACK_KUBE_CONTEXT'), 'prod-eu');
    const mount = c.volumeMounts?.find((m) => m.name === 'kubeconfig');
    assert.equal(mount?.mountPath, '/etc/rollback-controller/kubeconfig');
    const volume = pod.volumes?.find((v) => v.name === 'kubeconfig');
    assert.equal(volume?.secret?.secretName, 'prod-kubeconfig');
  });

  test('rbac.namespaces gets one Role and RoleBinding per namespace', async () => {
    const objects = await template('ops', '--set', 'rbac.namespaces={shop,payments}');
    const workloadRoles = all<Role>(objects, 'Role').filter(
      (r) => !r.metadata.name.endsWith('-leader-election'),
    );
    assert.deepEqual(workloadRoles.map((r) => r.metadata.namespace).sort(), ['payments', 'shop']);
    const bindings = all<Binding>(objects, 'RoleBinding').filter(
      (r) => r.roleRef.name === 'rc-rollback-controller',
    );
    assert.deepEqual(bindings.map((b) => b.metadata.namespace).sort(), ['payments', 'shop']);
    for (const b of bindings) assert.equal(b.subjects[0].namespace, 'ops');
    assertLeastPrivilege(all<Role>(objects, 'Role'));
    // Each namespace's watch cache (one watch per resource there) needs list and watch on all five.
    for (const role of workloadRoles) {
      const verbs = granted([role]);
      for (const r of [
        'deployments',
        'statefulsets',
        'daemonsets',
        'replicasets',
        'controllerrevisions',
      ])
        for (const verb of ['list', 'watch'])
          assert.ok(
            verbs.get(`apps/${r}`)?.has(verb),
            `${verb} apps/${r} in ${role.metadata.namespace}`,
          );
    }
  });

  test('leaderElection.enabled elects a leader with a single replica, without a PDB', async () => {
    const objects = await template('ops', '--set', 'leaderElection.enabled=true');
    const deployment = one<Workload>(objects, 'Deployment');
    assert.equal(deployment.spec.replicas, 1);
    assertLeaderElectionEnv(deployment.spec.template.spec.containers[0]);
    one<Role>(objects, 'Role', 'rc-rollback-controller-leader-election');
    assert.equal(all(objects, 'PodDisruptionBudget').length, 0);
  });

  test('the dashboard label is configurable and Slack can be turned off', async () => {
    const objects = await template(
      'ops',
      '--set',
      'dashboard.enabled=true,dashboard.label=my_dashboards,dashboard.labelValue=yes,slack.enabled=false',
    );
    const cm = one<ConfigMap>(objects, 'ConfigMap', 'rc-rollback-controller-dashboard');
    assert.equal(cm.metadata.labels?.['my_dashboards'], 'yes');
    assert.equal(cm.metadata.labels?.['grafana_dashboard'], undefined);
    const c = one<Workload>(objects, 'Deployment').spec.template.spec.containers[0];
    assert.equal(env(c, 'SLACK_WEBHOOK_URL_FILE'), undefined);
    assert.ok(!('slack-webhook-url' in one<Secret>(objects, 'Secret').data));
  });

  test('a given operator secret is used as is; operator.enabled=false ships none', async () => {
    const given = await template('ops', '--set', 'secret.operatorSecret=human-s3cr3t');
    const secret = one<Secret>(given, 'Secret');
    assert.equal(Buffer.from(secret.data['operator-secret'], 'base64').toString(), 'human-s3cr3t');
    const off = await template('ops', '--set', 'operator.enabled=false');
    assert.ok(!('operator-secret' in one<Secret>(off, 'Secret').data));
    const c = one<Workload>(off, 'Deployment').spec.template.spec.containers[0];
    assert.equal(env(c, 'ROLLBACK_OPERATOR_SECRET_FILE'), undefined);
  });

  test('networkPolicy (on by default) admits only Alertmanager, Prometheus and the replicas, on the http port', async () => {
    const objects = await template('ops');
    const policy = one<
      K8sObject & {
        spec: {
          podSelector: { matchLabels: Record<string, string> };
          policyTypes: string[];
          ingress: Array<{ ports: Array<{ port: string }>; from: object[] }>;
        };
      }
    >(objects, 'NetworkPolicy');
    const deployment = one<Workload>(objects, 'Deployment');
    assert.deepEqual(policy.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels);
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.equal(policy.spec.ingress.length, 1);
    assert.deepEqual(policy.spec.ingress[0]?.ports, [{ port: 'http', protocol: 'TCP' }]);
    const monitoring = { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } };
    assert.deepEqual(policy.spec.ingress[0]?.from, [
      { podSelector: { matchLabels: deployment.spec.selector.matchLabels } },
      {
        namespaceSelector: monitoring,
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'alertmanager' } },
      },
      {
        namespaceSelector: monitoring,
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    ]);
    const apart = await template(
      'ops',
      '--set-json',
      'networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"metrics"}}}]',
    );
    assert.deepEqual(one<typeof policy>(apart, 'NetworkPolicy').spec.ingress[0]?.from.at(-1), {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'metrics' } },
    });
    const off = await template('ops', '--set', 'networkPolicy.enabled=false');
    assert.equal(all(off, 'NetworkPolicy').length, 0);
  });

  test('a render without lookup (helm template, GitOps) warns that generated secrets rotate', async () => {
    const text = (await helm(['template', 'rc', chart, '--namespace', 'ops'])).stdout;
    assert.match(
      text,
      /WARNING: rendered without access to the cluster .* change on every render/s,
    );
    assert.match(text, /rollback-controller.io\/warning: "generated without lookup/);
    const notes = (await helm(['install', 'rc', chart, '--dry-run=client', '--namespace', 'ops']))
      .stdout;
    assert.match(notes, /NOTES:[\s\S]*For GitOps set secret.existingSecret/);
    const managed = (
      await helm([
        'template',
        'rc',
        chart,
        '--namespace',
        'ops',
        '--set',
        'secret.existingSecret=mine',
      ])
    ).stdout;
    assert.doesNotMatch(managed, /WARNING: rendered without access/);
    const given = (
      await helm([
        'template',
        'rc',
        chart,
        '--namespace',
        'ops',
        '--set',
        'secret.webhookSecret=w',
        '--set',
        'secret.operatorSecret=o',
      ])
    ).stdout;
    assert.doesNotMatch(given, /generated without lookup/);
  });

  test('clusterWide RBAC prints a warning with the deny list that is then the only guard', async () => {
    const result = await helm([
      'install',
      'rc',
      chart,
      '--dry-run=client',
      '--namespace',
      'ops',
      '--set',
      'rbac.clusterWide=true',
      '--set',
      'config.policy.deniedNamespaces={kube-system,kube-public,kube-node-lease,vault}',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
    assert.match(notes, /WARNING: RBAC is cluster-wide/);
    assert.match(notes, /kube-system included/);
    assert.match(notes, /denied: +kube-system, kube-public, kube-node-lease, vault/);
    assert.match(notes, /allowed: +\*/);
    const scoped = await helm(['install', 'rc', chart, '--dry-run=client', '--namespace', 'ops']);
    assert.doesNotMatch(scoped.stdout, /WARNING: RBAC is cluster-wide/);
  });

  test('the V8 heap is derived from the memory limit, with a semi-space for storms (NODE_OPTIONS)', async () => {
    const heap = async (...set: string[]) => {
      const objects = await template('ops', ...set.flatMap((v) => ['--set', v]));
      return env(
        one<Workload>(objects, 'Deployment').spec.template.spec.containers[0],
        'NODE_OPTIONS',
      );
    };
    // 60% of the limit, in MiB, whatever unit the limit is written in; 16 MiB semi-space.
    const semi = ' --max-semi-space-size=16';
    assert.equal(await heap(), `--max-old-space-size=153${semi}`);
    assert.equal(await heap('resources.limits.memory=1Gi'), `--max-old-space-size=614${semi}`);
    assert.equal(await heap('resources.limits.memory=512M'), `--max-old-space-size=292${semi}`);
    assert.equal(
      await heap('resources.limits.memory=268435456'),
      `--max-old-space-size=153${semi}`,
    );
    assert.equal(
      await heap('resources.limits.memory=1Gi', 'nodeHeapPercentOfLimit=75', 'nodeSemiSpaceMiB=32'),
      '--max-old-space-size=768 --max-semi-space-size=32',
    );
    assert.equal(
      await heap('nodeHeapPercentOfLimit=0'),
      semi.trim(),
      "0 keeps Node's default heap",
    );
    assert.equal(await heap('resources.limits=null'), semi.trim(), "no limit: Node's default heap");
    assert.equal(
      await heap('resources.limits=null', 'nodeSemiSpaceMiB=0'),
      undefined,
      "neither: Node's defaults",
    );
    const bad = await helm(['template', 'rc', chart, '--set', 'resources.limits.memory=lots']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /resources\.limits\.memory "lots" is not a memory quantity/);
  });

  test('a given webhook secret is used as is', async () => {
    const objects = await template('ops', '--set', 'secret.webhookSecret=s3cr3t-value');
    const secret = one<Secret>(objects, 'Secret');
    assert.equal(Buffer.from(secret.data['webhook-secret'], 'base64').toString(), 's3cr3t-value');
  });
});

describe('helm upgrade keeps the generated credentials', () => {
  test('the webhook and operator secrets already in the cluster are kept (helm lookup)', async () => {
    const fake = await startFakeKube();
    try {
      const b64 = (v: string) => Buffer.from(v).toString('base64');
      // What an earlier install left: the release's own Secret with generated values.
      const created = await fetch(`${fake.url}/api/v1/namespaces/ops/secrets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          metadata: {
            name: 'rc-rollback-controller',
            labels: { 'app.kubernetes.io/managed-by': 'Helm' },
            annotations: {
              'meta.helm.sh/release-name': 'rc',
              'meta.helm.sh/release-namespace': 'ops',
            },
          },
          data: {
            'webhook-secret': b64('from-the-first-install'),
            'operator-secret': b64('the-humans-one'),
          },
        }),
      });
      assert.equal(created.status, 201);
      const result = await helm([
        'template',
        'rc',
        chart,
        '--namespace',
        'ops',
        '--dry-run=server',
        '--disable-openapi-validation',
        '--kubeconfig',
        fake.kubeconfigPath,
        '--show-only',
        'templates/secret.yaml',
        // The fake API server serves no networking.k8s.io.
        '--set',
        'networkPolicy.enabled=false',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const [doc] = parseAllDocuments(result.stdout).map((d) => d.toJS() as Secret);
      const value = (key: string) => Buffer.from(doc?.data[key] ?? '', 'base64').toString();
      assert.equal(value('webhook-secret'), 'from-the-first-install');
      assert.equal(value('operator-secret'), 'the-humans-one');
    } finally {
      await fake.close();
    }
  });
});
