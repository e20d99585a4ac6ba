import type { Measurement, RunAssignment } from '@farm/contracts';
import type { Logger } from '../logger';
import { RunError, sleep, type RunContext } from './backend';
import { startBenchWebProcess, type BenchWebProcess } from './browser/bench-web-process';
import { BenchStateSchema, checkBenchResult, type CheckedBenchResult } from './browser/results';
import type { WebDriverSession } from './browser/webdriver';

export interface PagePolling {
  /** How often the page's state is read while it runs (ms). */
  pollMs: number;
  /** How long the page may take to expose window.benchWeb (ms). */
  loadTimeoutMs: number;
  /** How long the page may go without finishing an iteration (ms). */
  stallTimeoutMs: number;
}

export const DEFAULT_POLLING: PagePolling = { pollMs: 500, loadTimeoutMs: 60_000, stallTimeoutMs: 300_000 };

/**
 * Waits for the bench-web page open in `session` to finish, through its window API: the run
 * goes `running` when the page starts, and the wait ends with the page's error, when the page
 * never loads, or when it stops making progress. Returns when the page's API first answered.
 */
export async function awaitBenchWeb(session: WebDriverSession, context: RunContext, openedAt: number, polling: PagePolling): Promise<{ readyAt: number }> {
  let readyAt: number | null = null;
  let running = false;
  let lastIteration = -1;
  let lastProgressAt = openedAt;
  for (;;) {
    context.checkpoint();
    const raw = await session.execute('return window.benchWeb ? window.benchWeb.state() : null;', context.signal);
    const now = performance.now();
    if (raw === null) {
      if (now - openedAt > polling.loadTimeoutMs) throw new RunError('driver', `bench-web did not load in ${polling.loadTimeoutMs} ms (no window.benchWeb)`);
    } else {
      const parsed = BenchStateSchema.safeParse(raw);
      if (!parsed.success) throw new RunError('benchmark', `bench-web's state() does not match the contract: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      const state = parsed.data;
      readyAt ??= now;
      if (state.status !== 'idle' && !running) {
        running = true;
        context.status('running');
      }
      if (state.status === 'error') throw new RunError('benchmark', `bench-web: ${state.error ?? 'failed without a message'}`);
      if (state.status === 'done') return { readyAt };
      if (state.progress.iteration !== lastIteration) {
        lastIteration = state.progress.iteration;
        lastProgressAt = now;
      } else if (now - lastProgressAt > polling.stallTimeoutMs) {
        throw new RunError(
          'timeout',
          `bench-web made no progress for ${Math.round(polling.stallTimeoutMs / 1000)} s (status ${state.status}, iteration ${state.progress.iteration} of ${state.progress.of})`,
        );
      }
    }
    await sleep(polling.pollMs, context.signal);
  }
}

/** Reads a finished page's results and checks them against the run; a bad result is `benchmark`. */
export async function readBenchWeb(
  session: WebDriverSession,
  assignment: Pick<RunAssignment, 'model' | 'scenario' | 'iterations' | 'warmup'>,
  signal: AbortSignal,
): Promise<{ result: CheckedBenchResult; rows: Measurement[] }> {
  const raw = await session.execute('return window.benchWeb.results();', signal);
  try {
    return checkBenchResult(raw, assignment);
  } catch (err) {
    throw new RunError('benchmark', `bench-web: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** bench-web for a backend's devices: a given URL, or a process of its own started on first use. */
export class BenchWebHost {
  private process: Promise<BenchWebProcess> | null = null;

  constructor(private readonly options: { url?: string; modelsCacheDir?: string; log: Logger }) {}

  /** The page's base URL, ending with a slash. */
  url(): Promise<string> {
    if (this.options.url) {
      const base = this.options.url;
      return Promise.resolve(base.endsWith('/') ? base : `${base}/`);
    }
    this.process ??= startBenchWebProcess(this.options.modelsCacheDir ? { modelsCacheDir: this.options.modelsCacheDir } : {}).then((web) => {
      this.options.log.info({ url: web.url, version: web.version }, 'bench-web started');
      return web;
    });
    this.process.catch(() => {
      this.process = null;
    });
    return this.process.then((w) => w.url);
  }

  /** The bench-web this host started, if it did and it is up. */
  started(): Promise<BenchWebProcess | null> {
    return this.process?.catch(() => null) ?? Promise.resolve(null);
  }

  async stop(): Promise<void> {
    await (await this.started())?.stop();
  }
}
