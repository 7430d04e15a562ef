// The set-up every two-replica test file shares, registered as node:test hooks of the suite it
// is called in: a data folder with the controllers' config, a fake API server (optionally with
// workloads deployed on v1 then v2), the replica set; afterwards each replica's log when a test
// failed (to tell a slow failover from a wrong one), then every process stopped and every folder
// removed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startFakeKube, type FakeKube, type FakeKubeOptions } from './fake-kube/index.js';
import { replicaSet, type ReplicaSet } from './ha-replicas.js';

export interface HaFixture {
  readonly dir: string;
  readonly fake: FakeKube;
  readonly replicas: ReplicaSet;
  /** A test calls this when it passed: the replicas' logs are printed unless all did. */
  passed(): void;
}

export function haFixture(o: {
  prefix: string;
  /** The controllers' config.yaml (default: a fast rollout poll). */
  config?: string[];
  fake?: FakeKubeOptions;
  /** Deployments created on `<name>:v1`, then set to `<name>:v2`, both rollouts finished. */
  deployedTwice?: { namespace: string; names: string[] };
  /** How many tests call passed(). Default 1. */
  tests?: number;
  /** Also stopped after the replicas (relays, fake Slack…). */
  cleanUp?: () => Promise<void>;
}): HaFixture {
  let dir = '';
  let fake: FakeKube | undefined;
  let replicas: ReplicaSet | undefined;
  let passed = 0;
  const fixture: HaFixture = {
    get dir() {
      return dir;
    },
    get fake() {
      if (!fake) throw new Error('the fake API server starts in before()');
      return fake;
    },
    get replicas() {
      if (!replicas) throw new Error('the replica set is made in before()');
      return replicas;
    },
    passed: () => void passed++,
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), o.prefix));
    const config = o.config ?? ['rollout: { pollIntervalSeconds: 0.05 }'];
    writeFileSync(join(dir, 'config.yaml'), `${config.join('\n')}\n`);
    fake = await startFakeKube(o.fake);
    replicas = replicaSet(fake, dir);
    if (o.deployedTwice) {
      const { namespace, names } = o.deployedTwice;
      for (const name of names)
        await fake.createDeployment(namespace, name, { image: `${name}:v1` });
      await fake.settle();
      for (const name of names) await fake.setImage('Deployment', namespace, name, `${name}:v2`);
      await fake.settle();
    }
  });

  after(async () => {
    if (passed < (o.tests ?? 1))
      for (const r of replicas?.all ?? [])
        console.error(`--- replica ${r.name}\n${r.output.join('')}`);
    await replicas?.killAll();
    await o.cleanUp?.();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return fixture;
}
