// Builds the page with Vite's build API into dist/<inputs hash>/, only when no build of the
// current sources exists. Vite 8 is ESM-only and Jest cannot load it, so the build itself runs
// in a child Node process (this file, run as a script); the parent only hashes and renames.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { InlineConfig, Plugin } from 'vite/dist/node/index';
import { BENCH_WEB_VERSION } from '@farm/contracts';

const APP_ROOT = path.resolve(__dirname, '..');
const WORKSPACE_ROOT = path.resolve(APP_ROOT, '..', '..');

export const DEFAULT_DIST_DIR = path.join(APP_ROOT, 'dist');

/** What the page is made of: a change in any of these calls for a new build. */
const INPUTS: { dir: string; match: RegExp }[] = [
  { dir: APP_ROOT, match: /^index\.html$/ },
  { dir: path.join(APP_ROOT, 'src'), match: /^build\.ts$/ },
  { dir: path.join(APP_ROOT, 'src', 'page'), match: /^(?!.*\.spec\.ts$).*\.ts$/ },
  { dir: path.join(WORKSPACE_ROOT, 'libs', 'models', 'src'), match: /^browser\.ts$/ },
  { dir: path.join(WORKSPACE_ROOT, 'libs', 'models', 'src', 'lib'), match: /^(?!.*\.spec\.ts$).*\.ts$/ },
  { dir: path.join(WORKSPACE_ROOT, 'libs', 'contracts', 'src'), match: /^(?!.*\.spec\.ts$).*\.ts$/ },
];
const BUNDLED_PACKAGES = ['vite', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'jpeg-js'];

export interface BenchWebBuild {
  /** The folder holding index.html and assets/. */
  dir: string;
  /** Hash of the inputs; names the folder. */
  hash: string;
  /** `<app version>+<hash prefix>`, as window.benchWeb.version reports it. */
  version: string;
  /** Whether this call ran Vite (false: an existing build was current). */
  built: boolean;
  buildMs: number;
}

async function packageVersion(name: string): Promise<string> {
  // Walk up from the entry point: not every package exports its package.json.
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      // not this folder
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the version of ${name}`);
    dir = parent;
  }
}

/** sha256 over the page's sources and the versions of what gets bundled. */
export async function benchWebInputsHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const { dir, match } of INPUTS) {
    const names = (await fs.readdir(dir)).filter((n) => match.test(n)).sort();
    for (const name of names) {
      hash.update(`${path.relative(WORKSPACE_ROOT, path.join(dir, name))}\0`);
      hash.update(await fs.readFile(path.join(dir, name)));
      hash.update('\0');
    }
  }
  for (const name of BUNDLED_PACKAGES) hash.update(`${name}@${await packageVersion(name)}\0`);
  return hash.digest('hex');
}

/**
 * jpeg-js's encoder returns a Node Buffer whenever `module` is defined, which it is inside a
 * bundler's CommonJS wrapper; in a page there is no Buffer, so make it return its Uint8Array.
 */
function jpegJsInBrowser(): Plugin {
  const from = "if (typeof module === 'undefined') return new Uint8Array(byteout);";
  return {
    name: 'bench-web:jpeg-js-uint8array',
    transform(code, id) {
      if (!/jpeg-js[\\/]lib[\\/]encoder\.js$/.test(id)) return null;
      if (!code.includes(from)) throw new Error('jpeg-js encoder changed: cannot make it return a Uint8Array in the page');
      return { code: code.replace(from, 'return new Uint8Array(byteout);'), map: null };
    },
  };
}

export function viteConfig(outDir: string, version: string): InlineConfig {
  const lib = (p: string): string => path.join(WORKSPACE_ROOT, 'libs', p);
  return {
    configFile: false,
    root: APP_ROOT,
    // Relative asset URLs, so the page also works when served below a path.
    base: './',
    logLevel: 'warn',
    clearScreen: false,
    plugins: [jpegJsInBrowser()],
    resolve: {
      alias: [
        { find: /^@farm\/models\/browser$/, replacement: lib('models/src/browser.ts') },
        { find: /^@farm\/contracts$/, replacement: lib('contracts/src/index.ts') },
      ],
    },
    define: { __BENCH_WEB_BUILD__: JSON.stringify(version) },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 4096,
    },
  };
}

/** Runs Vite in this process: only for the child process (Vite cannot load under Jest). */
async function viteBuild(outDir: string, version: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Vite 8 is ESM-only; Node 20.19+ loads it through require
  const vite = require('vite') as typeof import('vite/dist/node/index');
  await vite.build(viteConfig(outDir, version));
}

function runChildBuild(outDir: string, version: string): Promise<void> {
  const args = __filename.endsWith('.ts') ? ['-r', require.resolve('@swc-node/register'), __filename] : [__filename];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...args, '--out', outDir, '--version', version],
      { cwd: WORKSPACE_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (err) reject(new Error(`the bench-web build failed: ${stderr.trim() || err.message}`));
        else resolve();
      },
    );
  });
}

export interface EnsureBuiltOptions {
  /** Where builds go; default apps/bench-web/dist. */
  distDir?: string;
  /** Build even when a current build exists. */
  force?: boolean;
}

const inProcess = new Map<string, Promise<BenchWebBuild>>();

/**
 * Returns the current build of the page, running Vite first when dist holds none (a fresh
 * clone, or sources changed). Safe when several processes ask at once: each builds into its
 * own temporary folder and the first rename wins.
 */
export function ensureBenchWebBuilt(options: EnsureBuiltOptions = {}): Promise<BenchWebBuild> {
  const distDir = path.resolve(options.distDir ?? DEFAULT_DIST_DIR);
  const key = `${distDir}\0${options.force === true}`;
  let pending = inProcess.get(key);
  if (!pending) {
    pending = buildIfNeeded(distDir, options.force === true);
    inProcess.set(key, pending);
    // A later call re-checks the sources: they may change while a long-lived process runs.
    const forget = (): void => void inProcess.delete(key);
    pending.then(forget, forget);
  }
  return pending;
}

async function buildIfNeeded(distDir: string, force: boolean): Promise<BenchWebBuild> {
  const started = performance.now();
  const hash = await benchWebInputsHash();
  const version = `${BENCH_WEB_VERSION}+${hash.slice(0, 12)}`;
  const dir = path.join(distDir, hash.slice(0, 16));
  const complete = async (): Promise<boolean> =>
    fs.access(path.join(dir, 'build-info.json')).then(
      () => true,
      () => false,
    );
  if (!force && (await complete())) return { dir, hash, version, built: false, buildMs: performance.now() - started };

  await fs.mkdir(distDir, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(distDir, '.tmp-'));
  try {
    await fs.chmod(tmp, 0o755);
    await runChildBuild(tmp, version);
    await fs.writeFile(path.join(tmp, 'build-info.json'), `${JSON.stringify({ version, hash, builtAt: new Date().toISOString() }, null, 2)}\n`);
    if (force) await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another process finished the same build first; theirs is as good as ours.
      if ((err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') || !(await complete())) throw err;
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  await removeStaleBuilds(distDir, path.basename(dir));
  return { dir, hash, version, built: true, buildMs: performance.now() - started };
}

/** Drops builds of older sources that nobody has touched for an hour (best effort). */
async function removeStaleBuilds(distDir: string, keep: string): Promise<void> {
  const cutoff = Date.now() - 3_600_000;
  for (const name of await fs.readdir(distDir).catch(() => [] as string[])) {
    if (name === keep) continue;
    const full = path.join(distDir, name);
    const stat = await fs.stat(full).catch(() => null);
    if (stat?.isDirectory() && stat.mtimeMs < cutoff) await fs.rm(full, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function cli(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = arg('--out');
  const version = arg('--version');
  if (out && version) {
    await viteBuild(out, version);
    return;
  }
  const build = await ensureBenchWebBuilt({ force: argv.includes('--force') });
  console.log(`${build.built ? 'built' : 'up to date'}: ${path.relative(process.cwd(), build.dir)} (${build.version}, ${Math.round(build.buildMs)} ms)`);
}

if (require.main === module) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
