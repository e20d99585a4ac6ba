import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './stack';

/**
 * A Redis server or PostgreSQL cluster of this process's own, on a free port of 127.0.0.1, that
 * it may stop and start again (fault tests) without touching the machine's shared ones.
 */
export interface PrivateService {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

// Stopped with this process however it ends, so no server is left holding a port and a folder.
const cleanups = new Set<() => void>();
const cleanUp = () => {
  for (const cleanup of cleanups) cleanup();
  cleanups.clear();
};
process.once('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

async function waitFor(probe: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function succeeds(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/** redis-server without persistence, as the farm's default Redis runs: a restart loses every key. */
export async function startPrivateRedis(): Promise<PrivateService> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'farm-redis-'));
  let child: ChildProcess | undefined;
  const ping = () => succeeds('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping']);
  const kill = () => child?.kill('SIGKILL');
  cleanups.add(kill);
  const service: PrivateService = {
    url: `redis://127.0.0.1:${port}`,
    start: async () => {
      child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
      await waitFor(ping, `redis-server on port ${port}`);
    },
    stop: async () => {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
    destroy: async () => {
      await service.stop();
      cleanups.delete(kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

/** The newest PostgreSQL server binaries Debian installed (initdb, pg_ctl). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${root} (apt-get install postgresql)`);
  return path.join(root, newest, 'bin');
}

/**
 * A PostgreSQL cluster in a temporary folder (trust auth, user postgres). PostgreSQL refuses to
 * run as root, so as root the cluster belongs to, and runs as, the `postgres` user.
 */
export async function startPrivatePostgres(database: string): Promise<PrivateService> {
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'farm-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: readonly string[]) => {
    const [command, ...rest] = asRoot ? ['runuser', '-u', 'postgres', '--', path.join(bin, tool), ...args] : [path.join(bin, tool), ...args];
    execFileSync(command ?? tool, rest, { stdio: 'ignore', timeout: 60_000 });
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  // No fsync (the machine does not crash here, only the server), but every commit is written
  // before it is acknowledged: a server stopped at once loses no acknowledged transaction.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const stopNow = () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not running
    }
  };
  cleanups.add(stopNow);
  const service: PrivateService = {
    url: `postgresql://postgres@127.0.0.1:${port}/${database}`,
    start: async () => {
      run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
      await waitFor(() => succeeds(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']), `PostgreSQL on port ${port}`);
    },
    // An immediate stop: connections are cut mid-transaction, as when the server dies.
    stop: () => Promise.resolve(stopNow()),
    destroy: async () => {
      await service.stop();
      cleanups.delete(stopNow);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}
