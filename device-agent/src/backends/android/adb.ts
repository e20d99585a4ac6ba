import { execFile } from 'node:child_process';
import { parseAdbDevices, type AdbDevice } from './adb-output/adb-devices';

/** An adb command failed: its arguments, exit code and what it printed on stderr. */
export class AdbError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    message: string,
  ) {
    super(`adb ${args.join(' ')}: ${message}`);
    this.name = 'AdbError';
  }

  /** The device is not there any more (unplugged, rebooting, adb lost it). */
  get deviceGone(): boolean {
    return /device '.*' not found|device offline|device unauthorized|no devices\/emulators found|device still connecting/i.test(this.stderr);
  }
}

/**
 * The adb binary, one process per command, each with a time limit. `env` adds to the agent's
 * environment (ANDROID_ADB_SERVER_PORT, say, for a second adb server on the host).
 */
export class Adb {
  constructor(
    private readonly path: string,
    private readonly timeoutMs: number,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  run(args: readonly string[], signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.path, [...args], { timeout: this.timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...this.env }, ...(signal && { signal }) }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if (signal?.aborted) return reject(signal.reason as Error);
        const code = typeof error.code === 'number' ? error.code : null;
        const why = error.killed ? `no answer in ${this.timeoutMs} ms` : stderr.trim().split('\n')[0] || error.message;
        reject(new AdbError(args, code, stderr, why));
      });
    });
  }

  async devices(): Promise<AdbDevice[]> {
    return parseAdbDevices(await this.run(['devices', '-l']));
  }

  shell(serial: string, command: readonly string[], signal?: AbortSignal): Promise<string> {
    return this.run(['-s', serial, 'shell', ...command], signal);
  }
}
