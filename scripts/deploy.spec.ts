import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './lib/processes';

/**
 * docker-compose.yml and the Dockerfiles, checked with no Docker engine: Debian's
 * docker-compose 1.29 (.ci/run installs it) validates the file, and each deployable's
 * Dockerfile is there and keeps the rules of the images.
 */
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
}

function composeConfig(file: string): { status: number | null; output: string } {
  const result = spawnSync('docker-compose', ['-f', file, 'config', '-q'], { cwd: path.dirname(file), encoding: 'utf8' });
  if (result.error) throw new Error(`docker-compose could not run (${result.error.message}); on Debian: apt-get install docker-compose`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deployment', () => {
  const file = path.join(ROOT, 'docker-compose.yml');
  const services = (parse(readFileSync(file, 'utf8')) as { services: Record<string, Service> }).services;

  it('docker-compose.yml is valid', () => {
    expect(composeConfig(file)).toEqual({ status: 0, output: '' });
  });

  it('a broken compose file is refused by the same check', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'farm-compose-'));
    try {
      writeFileSync(path.join(dir, 'docker-compose.yml'), 'services:\n  api:\n    imagee: node:20\n');
      const result = composeConfig(path.join(dir, 'docker-compose.yml'));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('imagee');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs postgres, redis with its append-only file, the api, the inference server and an agent', () => {
    expect(Object.keys(services).sort()).toEqual(['agent', 'api', 'inference-server', 'postgres', 'redis']);
    expect(services['redis']?.command?.join(' ')).toContain('--appendonly yes');
    expect(Object.keys(services['api']?.environment ?? {})).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'PORT']));
    expect(Object.keys(services['agent']?.environment ?? {})).toEqual(expect.arrayContaining(['API_URL', 'REDIS_URL', 'AGENT_TOKEN', 'INFERENCE_URL']));
  });

  it.each(['api', 'inference-server', 'agent'])('%s is built from its own Dockerfile: Node 20, npm ci, not root, a healthcheck', (name) => {
    const build = services[name]?.build;
    expect(build?.context).toBe('.');
    const dockerfile = readFileSync(path.join(ROOT, build?.dockerfile ?? ''), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20[-\w.]*$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });
});
