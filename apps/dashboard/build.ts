// Builds the dashboard with Vite into dist/<inputs hash>/, only when no build of the current
// sources exists, and prints that folder on its last line. The API runs this script as a
// child process when it starts (Vite is ESM-only and has no place in the API's process), so a
// fresh clone serves the dashboard with no build step of its own.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { InlineConfig } from 'vite/dist/node/index';

const APP_ROOT = __dirname;
const WORKSPACE_ROOT = path.resolve(APP_ROOT, '..', '..');
const DIST_DIR = path.join(APP_ROOT, 'dist');

/** Folders whose files make up the page, and the packages bundled into it. */
const SOURCE_DIRS = [path.join(APP_ROOT, 'src'), path.join(WORKSPACE_ROOT, 'libs', 'contracts', 'src')];
const BUNDLED_PACKAGES = ['vite', 'react', 'react-dom', 'echarts'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : Promise.resolve(/\.spec\.ts$/.test(e.name) ? [] : [path.join(dir, e.name)]))),
  );
  return nested.flat().sort();
}

async function inputsHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = [path.join(APP_ROOT, 'index.html'), __filename, ...(await Promise.all(SOURCE_DIRS.map(sourceFiles))).flat()];
  for (const file of files) hash.update(`${path.relative(WORKSPACE_ROOT, file)}\0`).update(await fs.readFile(file)).update('\0');
  for (const name of BUNDLED_PACKAGES) {
    const pkg = JSON.parse(await fs.readFile(path.join(WORKSPACE_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    hash.update(`${name}@${pkg.version}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

function viteConfig(outDir: string): InlineConfig {
  return {
    configFile: false,
    mode: 'production',
    root: APP_ROOT,
    base: '/',
    logLevel: 'warn',
    clearScreen: false,
    resolve: { alias: [{ find: /^@farm\/contracts$/, replacement: path.join(WORKSPACE_ROOT, 'libs', 'contracts', 'src', 'index.ts') }] },
    oxc: { jsx: { runtime: 'automatic' } },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 2048 },
  };
}

/** The folder holding the current build's index.html and assets/, built first if needed. */
async function ensureBuilt(): Promise<string> {
  const dir = path.join(DIST_DIR, await inputsHash());
  const built = (): Promise<boolean> => fs.access(path.join(dir, 'index.html')).then(() => true, () => false);
  if (await built()) {
    // Its time says when an API last started on it (see removeOldBuilds).
    await fs.utimes(dir, new Date(), new Date());
    return dir;
  }
  await fs.mkdir(DIST_DIR, { recursive: true });
  // Build aside and rename: two APIs starting at once both end up serving one complete build.
  const tmp = await fs.mkdtemp(path.join(DIST_DIR, '.tmp-'));
  try {
    // Vite takes the mode from NODE_ENV when set, and a parent under Jest sets it to `test`.
    process.env['NODE_ENV'] = 'production';
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- Vite 8 is ESM-only; Node 20.19+ loads it through require
    const vite = require('vite') as typeof import('vite/dist/node/index');
    await vite.build(viteConfig(tmp));
    await fs.chmod(tmp, 0o755);
    await fs.rename(tmp, dir).catch(async (error: NodeJS.ErrnoException) => {
      if ((error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') || !(await built())) throw error;
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  await removeOldBuilds(path.basename(dir));
  return dir;
}

/** Builds of older sources go once no API has started on them for an hour (best effort). */
async function removeOldBuilds(keep: string): Promise<void> {
  const cutoff = Date.now() - 3_600_000;
  for (const name of await fs.readdir(DIST_DIR)) {
    const full = path.join(DIST_DIR, name);
    const stat = await fs.stat(full).catch(() => undefined);
    if (name !== keep && !name.startsWith('.tmp-') && stat?.isDirectory() && stat.mtimeMs < cutoff) await fs.rm(full, { recursive: true, force: true }).catch(() => undefined);
  }
}

ensureBuilt().then(
  (dir) => console.log(dir),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
