import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** bench-web's entry point in this repository; the agent runs it as a process of its own. */
const BENCH_WEB_MAIN = path.resolve(__dirname, '..', '..', '..', '..', 'apps', 'bench-web', 'src', 'main.ts');

export interface BenchWebProcess {
  url: string;
  version: string;
  stop(): Promise<void>;
}

/**
 * Starts bench-web (building the page first if needed) on a free loopback port, and resolves
 * once it says where it serves.
 */
export function startBenchWebProcess(options: { modelsCacheDir?: string; timeoutMs?: number } = {}): Promise<BenchWebProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', BENCH_WEB_MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...(options.modelsCacheDir && { MODELS_CACHE_DIR: options.modelsCacheDir }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`bench-web did not start within ${options.timeoutMs ?? 120_000} ms: ${output.slice(-500)}`));
    }, options.timeoutMs ?? 120_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const ready = /bench-web (\S+) at (\S+)/.exec(output);
      if (!ready?.[1] || !ready[2]) return;
      clearTimeout(timer);
      const url = ready[2];
      resolve({ url: url.endsWith('/') ? url : `${url}/`, version: ready[1], stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`bench-web exited before it was ready: ${output.slice(-500)}`));
    });
  });
}
