/**
 * The package as a user gets it: `npm pack` (whose prepack builds dist/), the tarball's file
 * list, then `npm install --omit=dev` of the tarball into an empty project and, from there,
 * `npx ringkv --version`, `--help`, `bench staleness` with a shipped profile, `up --memory` with
 * a PUT/GET and Ctrl-C, and the README's embedded example run as .mjs and type-checked as .ts
 * against the installed type declarations.
 * The install needs the npm registry (or npm's cache) for ringkv's dependencies; without
 * either, that test is skipped with the reason.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Longest `npm pack` (a full tsc build) may take on a busy 2-core machine. */
const PACK_TIMEOUT_MS = 120_000;
/**
 * Longest `npm install` may take. npm's own fetches give up sooner: one retry after 1-2 s, so a
 * machine without a network fails in ~15 s with an error OFFLINE_ERROR recognises.
 */
const INSTALL_TIMEOUT_MS = 120_000;
/** Longest a short command (--version, --help, tsc, the example) may take. */
const COMMAND_TIMEOUT_MS = 30_000;
/** Longest `ringkv up` may take to print its URL, and to exit after SIGINT. */
const UP_TIMEOUT_MS = 30_000;
/** Longest one HTTP request to the started cluster may take. */
const HTTP_TIMEOUT_MS = 10_000;

/** npm's errors when neither the registry nor its cache can serve a package. */
const OFFLINE_ERROR =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED)\b/;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for child commands: this one without the npm_* variables that `npm test`
 * sets, so the inner npm reads its own configuration and not this run's.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
}

/** Runs a command to completion; its whole process group is killed after `timeoutMs`. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} took over ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Signals a detached child's process group, as a terminal's Ctrl-C does; gone is fine. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The ```ts block of the README's "Embedded API" section, as the README shows it. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embedded API'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (block?.[1] === undefined) throw new Error('README: no ```ts block under "## Embedded API"');
  return block[1];
}

interface PackedFile {
  path: string;
}

let work = '';
let tarball = '';
let packed: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ringkv-package-'));
  const pack = await run(
    'npm',
    ['pack', '--json', '--pack-destination', work],
    ROOT,
    PACK_TIMEOUT_MS,
  );
  expect(pack.code, `npm pack failed:\n${pack.stderr}`).toBe(0);
  const [result] = JSON.parse(pack.stdout) as [{ filename: string; files: PackedFile[] }];
  tarball = join(work, result.filename);
  packed = result.files.map((file) => file.path).sort();
}, PACK_TIMEOUT_MS + 5_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds the build, its assets, README and LICENSE, and nothing else', () => {
    const allowed = [
      /^dist\/src\/.+\.(js|d\.ts)$/,
      /^dist\/src\/server\/dashboard\/[a-z-]+\.(html|css)$/,
      /^dist\/bench\/profiles\/[a-z0-9-]+\.json$/,
      /^(bin\/ringkv\.mjs|package\.json|README\.md|LICENSE)$/,
    ];
    expect(packed.filter((path) => !allowed.some((pattern) => pattern.test(path)))).toEqual([]);

    const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.ts'))
      .map((path) => path.replaceAll('\\', '/').replace(/\.ts$/, ''));
    const expected = [
      ...sources.flatMap((path) => [`dist/src/${path}.js`, `dist/src/${path}.d.ts`]),
      // Every file the dashboard is made of (the static-asset routes serve them from dist/).
      ...readdirSync(join(ROOT, 'src/server/dashboard')).map(
        (f) => `dist/src/server/dashboard/${f}`,
      ),
      ...readdirSync(join(ROOT, 'bench/profiles')).map((f) => `dist/bench/profiles/${f}`),
      'bin/ringkv.mjs',
      'package.json',
      'README.md',
      'LICENSE',
    ];
    expect(sources.length).toBeGreaterThan(100);
    expect(packed).toEqual([...new Set(expected)].sort());
  });

  it('installed with --omit=dev into an empty project, works as the README says', async (context) => {
    const project = join(work, 'project');
    mkdirSync(project);
    const manifest = { name: 'ringkv-user', private: true, type: 'module' };
    writeFileSync(join(project, 'package.json'), JSON.stringify(manifest));
    const install = await run(
      'npm',
      [
        'install',
        '--omit=dev',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--fetch-retries=1',
        '--fetch-retry-mintimeout=1000',
        '--fetch-retry-maxtimeout=2000',
        '--fetch-timeout=30000',
        tarball,
      ],
      project,
      INSTALL_TIMEOUT_MS,
    );
    const offline = OFFLINE_ERROR.exec(install.stderr);
    if (install.code !== 0 && offline !== null) {
      context.skip(`npm install cannot reach the registry or its cache (${offline[1]})`);
    }
    expect(install.code, `npm install failed:\n${install.stderr}`).toBe(0);
    const installed = join(project, 'node_modules', MANIFEST.name);
    expect(readdirSync(join(project, 'node_modules')), 'no devDependency').not.toContain('tsx');

    await checkCommands(project);
    await checkUp(project);
    await checkExample(project, installed);
  }, 240_000);
});

/** `npx ringkv --version`, `--help` and `bench staleness --profile lan-ssd` run the compiled bin. */
async function checkCommands(project: string): Promise<void> {
  const version = await run('npx', ['ringkv', '--version'], project, COMMAND_TIMEOUT_MS);
  expect(version.stderr).toBe('');
  expect(version.code).toBe(0);
  expect(version.stdout).toBe(`${MANIFEST.version}\n`);

  const help = await run('npx', ['ringkv', '--help'], project, COMMAND_TIMEOUT_MS);
  expect(help.code, help.stderr).toBe(0);
  expect(help.stdout).toMatch(/^Usage: ringkv /);
  for (const command of ['up', 'put', 'get', 'status', 'bench']) {
    expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
  }
  // A shipped latency profile, found by name in the installed package.
  const bench = await run(
    'npx',
    ['ringkv', 'bench', 'staleness', '--profile', 'lan-ssd', '--t', '0', '--trials', '1000'],
    project,
    COMMAND_TIMEOUT_MS,
  );
  expect(bench.code, bench.stderr).toBe(0);
  expect(bench.stdout).toMatch(/profile lan-ssd$/m);
}

/** `npx ringkv up --memory --port 0`: a PUT, a GET, the dashboard and its charts' uPlot, then Ctrl-C. */
async function checkUp(project: string): Promise<void> {
  const up = spawn('npx', ['ringkv', 'up', '--memory', '--port', '0'], {
    cwd: project,
    env: cleanEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  up.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const closed = new Promise<void>((resolve) => up.once('close', () => resolve()));
  try {
    const url = await urlOf(up, () => stderr);
    const put = await fetch(`${url}/kv/greeting`, {
      method: 'PUT',
      body: 'hello from the package',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const get = await fetch(`${url}/kv/greeting`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('hello from the package');
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/dashboard.js', 'text/javascript'],
      ['/dashboard.css', 'text/css'],
      // uPlot for the history charts, from the uplot dependency the install brought.
      ['/vendor/uPlot.min.js', 'text/javascript'],
      ['/vendor/uPlot.min.css', 'text/css'],
    ] as const) {
      const asset = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
      expect(asset.status, `GET ${path}`).toBe(200);
      expect(asset.headers.get('content-type')).toContain(type);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }

    killGroup(up, 'SIGINT');
    await within(closed, UP_TIMEOUT_MS, 'ringkv up did not stop after SIGINT');
    expect(stderr).toContain('SIGINT received: shutting down');
    expect(stderr).not.toMatch(/shutdown failed|forcing exit/);
    expect(groupAlive(up.pid ?? 0), 'every process of `npx ringkv up` exited').toBe(false);
  } finally {
    killGroup(up, 'SIGKILL');
  }
}

/** Resolves with the URL on `up`'s first line; rejects if it exits first or takes too long. */
function urlOf(up: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`ringkv up printed no URL within ${UP_TIMEOUT_MS} ms\n${stderr()}`)),
      UP_TIMEOUT_MS,
    );
    up.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const match = /^ringkv is up at (http:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(match[1]);
    });
    up.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`ringkv up exited (${code}) before printing its URL\n${stderr()}`));
    });
  });
}

function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The README's example runs as an ES module, and type-checks as TypeScript with the types the
 * installed package declares: a deliberately wrong use of the same API must fail to compile.
 */
async function checkExample(project: string, installed: string): Promise<void> {
  const example = readmeExample();
  writeFileSync(join(project, 'example.mjs'), example);
  const ran = await run(process.execPath, ['example.mjs'], project, COMMAND_TIMEOUT_MS);
  expect(ran.code, ran.stderr).toBe(0);
  expect(ran.stdout).toMatch(/^\[ 'Ada' \]$/m);

  writeFileSync(join(project, 'example.ts'), example);
  writeFileSync(
    join(project, 'misuse.ts'),
    [
      "import { startCluster } from 'ringkv';",
      "const db = await startCluster({ nodes: 'five' });",
      'const values: number = (await db.get("k")).strings();',
      'console.log(values);',
      '',
    ].join('\n'),
  );
  const flags = ['--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict'];
  const checked = await run(
    process.execPath,
    [TSC, ...flags, '--listFiles', 'example.ts', 'misuse.ts'],
    project,
    COMMAND_TIMEOUT_MS,
  );
  const errors = checked.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
  expect(errors.filter((line) => !line.startsWith('misuse.ts'))).toEqual([]);
  expect(errors).toEqual([
    expect.stringMatching(/^misuse\.ts\(2,\d+\): error TS2322/),
    expect.stringMatching(/^misuse\.ts\(3,\d+\): error TS2322/),
  ]);
  const declarations = relative(project, join(installed, 'dist/src/index.d.ts'));
  const listed = checked.stdout.split('\n').map((line) => relative(project, line.trim()));
  expect(listed, 'types come from the installed package').toContain(declarations);
}
