import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'farm-agent');

/** Runs a TypeScript file through the agent's loader; it prints its value and whether swc was loaded. */
function run(file: string): { value: string; swc: boolean } {
  const out = execFileSync(process.execPath, ['-r', path.join(ROOT, 'device-agent', 'register.js'), file], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as { value: string; swc: boolean };
}

function source(value: string): string {
  return `const value: string = ${JSON.stringify(value)};
console.log(JSON.stringify({ value, swc: Object.keys(require.cache).some((k) => k.includes('@swc')) }));\n`;
}

describe("the agent's TypeScript loader", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'farm-register-'));
  const file = path.join(dir, 'probe.ts');
  const before = new Set(readdirSync(CACHE));

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const entry of readdirSync(CACHE)) if (!before.has(entry)) rmSync(path.join(CACHE, entry), { force: true });
  });

  it('compiles a file once, then runs it from the cache without loading swc', () => {
    const value = randomUUID();
    writeFileSync(file, source(value));
    expect(run(file)).toEqual({ value, swc: true });
    expect(run(file)).toEqual({ value, swc: false });
  });

  it('compiles a changed file again, never running the cached output of its old source', () => {
    const value = randomUUID();
    writeFileSync(file, source(value));
    expect(run(file)).toEqual({ value, swc: true });
  });

  it('compiles the whole agent at install, so an agent starts without loading swc, and drops what no source needs', () => {
    const stale = path.join(CACHE, `${'0'.repeat(64)}.js`);
    writeFileSync(stale, 'an old version of a file\n');
    execFileSync(process.execPath, [path.join(ROOT, 'device-agent', 'register.js')], { cwd: ROOT });
    expect(existsSync(stale)).toBe(false);
    // The agent loads every module, then stops on its missing token; the probe tells what it loaded.
    const probe = path.join(dir, 'probe.js');
    writeFileSync(probe, "process.on('exit', () => console.log(`swc=${Object.keys(require.cache).some((k) => k.includes('@swc'))}`));\n");
    const agent = spawnSync(process.execPath, ['-r', path.join(ROOT, 'device-agent', 'register.js'), '-r', probe, path.join(ROOT, 'device-agent', 'src', 'main.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] },
    });
    expect(agent.stderr).toMatch(/AGENT_TOKEN/);
    expect(agent.stdout.trim()).toBe('swc=false');
  });
});
