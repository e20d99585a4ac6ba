import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

export interface AppiumLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface AppiumServerOptions {
  /** Default 127.0.0.1: the server drives this host's browsers and nobody else's. */
  host?: string;
  /** Default: a free port, chosen at each start. */
  port?: number;
  /** How long a start may take before it counts as failed. */
  startTimeoutMs?: number;
  /** Restart delays after unexpected exits: first, then doubled up to the max. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  log: AppiumLog;
}

/** Appium's CLI entry and the folder whose package.json lists the drivers (APPIUM_HOME). */
export function appiumInstall(): { main: string; home: string; version: string } {
  const pkgFile = require.resolve('appium/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string; main: string };
  // Appium 3 finds drivers that are plain dependencies of the project that depends on it.
  return { main: path.resolve(path.dirname(pkgFile), pkg.main), home: path.resolve(path.dirname(pkgFile), '..', '..'), version: pkg.version };
}

/** A port nothing listens on now (the OS's choice); another process may still take it first. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * One Appium server as a child process of the agent: started with node directly on Appium's
 * main script, watched, and started again (with back-off) when it dies unexpectedly.
 */
export class AppiumServer {
  private child: ChildProcess | null = null;
  private starting: Promise<string> | null = null;
  private currentUrl: string | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelay: number;
  private lastOutput: string[] = [];
  private startedAt = 0;
  /** Unexpected exits so far. */
  restarts = 0;

  constructor(private readonly options: AppiumServerOptions) {
    this.restartDelay = options.restartDelayMs ?? 1_000;
  }

  get url(): string | null {
    return this.currentUrl;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** The server's URL, starting it first if it is not running. */
  ensureRunning(): Promise<string> {
    if (this.stopping) return Promise.reject(new Error('the Appium server is stopping'));
    if (this.currentUrl && this.child) return Promise.resolve(this.currentUrl);
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    this.starting ??= this.start().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.starting?.catch(() => undefined);
    const child = this.child;
    this.child = null;
    this.currentUrl = null;
    if (child) await terminate(child);
  }

  private async start(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? (await freePort(host));
    const { main, home } = appiumInstall();
    const child = spawn(process.execPath, [main, '--address', host, '--port', String(port), '--log-level', 'info', '--log-no-colors'], {
      cwd: home,
      env: { ...process.env, APPIUM_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.lastOutput = [];
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.lastOutput.push(line);
        this.options.log.debug({ appium: line }, 'appium');
      }
      if (this.lastOutput.length > 40) this.lastOutput.splice(0, this.lastOutput.length - 40);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    const url = `http://${host}:${port}`;
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`Appium exited during start (${signal ?? `code ${code}`}): ${this.tail()}`)));
    });
    exited.catch(() => undefined);
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    try {
      await Promise.race([exited, waitForStatus(url, deadline)]);
    } catch (err) {
      await terminate(child);
      throw err instanceof Error ? err : new Error(String(err));
    }
    if (this.stopping) {
      await terminate(child);
      throw new Error('the Appium server is stopping');
    }
    this.child = child;
    this.currentUrl = url;
    this.startedAt = Date.now();
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    this.options.log.info({ url, pid: child.pid }, 'appium server started');
    return url;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child || this.stopping) return;
    this.child = null;
    this.currentUrl = null;
    this.restarts++;
    // A server that ran for a while before dying gets a fresh back-off.
    if (Date.now() - this.startedAt > 60_000) this.restartDelay = this.options.restartDelayMs ?? 1_000;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, this.options.maxRestartDelayMs ?? 30_000);
    this.options.log.warn({ code, signal, restartInMs: delay, output: this.tail() }, 'appium server died; restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.ensureRunning().catch((err: unknown) => this.options.log.warn({ error: err instanceof Error ? err.message : String(err) }, 'appium restart failed'));
    }, delay);
    this.restartTimer.unref();
  }

  private tail(): string {
    return this.lastOutput.slice(-8).join(' | ') || '(no output)';
  }
}

async function waitForStatus(url: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Appium did not answer ${url}/status in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
