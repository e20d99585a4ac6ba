/**
 * The agent's TypeScript loader: each .ts file compiled by swc as it is required, and the
 * workspace's `@farm/*` paths resolved from tsconfig.base.json. It does what @swc-node/register
 * does for the agent without loading the TypeScript compiler, about 60 MB of every agent's
 * memory (an agent holds its host's phones for days, and a rack runs many).
 *
 * Compiled files are kept on disk by the hash of their source (`node_modules/.cache/farm-agent`,
 * filled at install by `node device-agent/register.js`), and swc is loaded only when a file is
 * not there: its native library alone is another 30 MB of resident memory.
 */
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { paths } = JSON.parse(readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions;
const aliases = new Map(Object.entries(paths).map(([alias, [target]]) => [alias, path.join(root, target)]));

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, aliases.get(request) ?? request, ...rest);
};

const options = (filename) => ({
  filename,
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    target: 'es2022',
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'commonjs' },
});

const cacheDir = path.join(root, 'node_modules', '.cache', 'farm-agent');
/** What else decides the output: the compiler's version and the options above. */
const salt = `${JSON.parse(readFileSync(require.resolve('@swc/core/package.json'), 'utf8')).version}\0${JSON.stringify(options(''))}`;

/** Compiles a file, or reads what an earlier compile of the same source kept; says where it is kept. */
function compile(filename) {
  const source = readFileSync(filename, 'utf8');
  const key = createHash('sha256').update(salt).update('\0').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  return { cached, code: compiled(filename, source, cached) };
}

function compiled(filename, source, cached) {
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // Not compiled yet (or changed since): compile it now and keep it for the next start.
  }
  const { code } = require('@swc/core').transformSync(source, options(filename));
  try {
    mkdirSync(cacheDir, { recursive: true });
    // Written aside and renamed, so an agent starting beside this one never reads half a file.
    const partial = `${cached}.${process.pid}`;
    writeFileSync(partial, code);
    renameSync(partial, cached);
  } catch {
    // A read-only tree compiles in memory at every start; nothing else changes.
  }
  return code;
}

Module._extensions['.ts'] = (module, filename) => {
  module._compile(compile(filename).code, filename);
};

/**
 * Run as a script (at install): compiles the agent's entry point and every TypeScript file it
 * requires, following the compiled output's `require` calls (imports of types only are gone by
 * then, and need nothing at run time either), and removes what the cache holds of any other
 * source, such as the versions of files before an edit.
 */
if (require.main === module) {
  const entry = path.join(root, 'device-agent', 'src', 'main.ts');
  const seen = new Set([entry]);
  const kept = new Set();
  for (const filename of seen) {
    const { cached, code } = compile(filename);
    kept.add(path.basename(cached));
    for (const [, request] of code.matchAll(/\brequire\("([^"]+)"\)/g)) {
      let resolved;
      try {
        resolved = Module._resolveFilename(request, { id: filename, filename, paths: Module._nodeModulePaths(path.dirname(filename)) });
      } catch {
        continue;
      }
      if (resolved.endsWith('.ts')) seen.add(resolved);
    }
  }
  const stale = (existsSync(cacheDir) ? readdirSync(cacheDir) : []).filter((name) => !kept.has(name));
  for (const name of stale) rmSync(path.join(cacheDir, name), { force: true });
  console.log(`device agent: ${seen.size} files compiled into ${path.relative(root, cacheDir)}${stale.length > 0 ? `, ${stale.length} stale removed` : ''}`);
}
