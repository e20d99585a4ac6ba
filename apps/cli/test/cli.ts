import { spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(__dirname, '..', 'bin', 'farm.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `farm` as its own process, as a user would (through its bin), from `cwd`; kills it after
 * `timeoutMs` so a hung command fails its test rather than the suite.
 */
export function farmCli(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; terminal?: boolean; onStderr?: (text: string) => void }): Promise<CliResult> {
  const started = Date.now();
  const child = options.terminal
    ? // A terminal for the command, so it draws what a person sees (util-linux's script).
      spawn('script', ['-qec', [process.execPath, BIN, ...args].map(quote).join(' '), '/dev/null'], { cwd: options.cwd, env: { ...process.env, ...options.env } })
    : spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    options.onStderr?.(stderr);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
