import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

// Children still running when this process exits (an error, a test runner finishing) are
// stopped with it, so no API or agent is left holding a port.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

export interface Service {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | NodeJS.Signals>;
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
}

/**
 * Starts a TypeScript entry point of the repository as its own process, with the given
 * environment on top of this one's. Output goes to ours, each line prefixed with the name,
 * unless `quiet`.
 */
export function startService(name: string, entry: string, env: NodeJS.ProcessEnv, options: { quiet?: boolean } = {}): Service {
  const child = spawn(process.execPath, [...nodeArgsOf(entry), path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      if (options.quiet) return;
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) process.stderr.write(`[${name}] ${line}\n`);
    });
  }
  running.add(child);
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 0);
    });
  });
  return {
    name,
    child,
    exited,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * How Node runs an entry point. The agent, as `npm run agent` and its image start it: its own
 * loader (device-agent/register.js, lighter than @swc-node/register, its output cached on disk)
 * and a 128 MB heap with a 16 MB young generation; README's "Agent memory" has the figures.
 */
function nodeArgsOf(entry: string): string[] {
  return entry.startsWith('device-agent/')
    ? ['--max-semi-space-size=16', '--max-old-space-size=128', '-r', path.join(ROOT, 'device-agent', 'register.js')]
    : ['-r', '@swc-node/register'];
}

/** Polls a URL until it answers 2xx, the service exits, or the timeout passes. */
export async function waitForHttp(url: string, service: Service | undefined, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let exited = false;
  void service?.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${service?.name ?? url} exited before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
