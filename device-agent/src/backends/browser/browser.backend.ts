import { constants as fsConstants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeviceHealth, DeviceRegistration, Measurement, RunDetails } from '@farm/contracts';
import pino from 'pino';
import { benchQuery, isHttpUrl, type BenchParams } from '@farm/contracts';
import type { Logger } from '../../logger';
import { RunError, type DeviceBackend, type RunContext } from '../backend';
import { awaitBenchWeb, BenchWebHost, DEFAULT_POLLING, readBenchWeb } from '../bench-web-page';
import { AppiumServer, appiumInstall, freePort } from './appium-server';
import { binaryVersion, hostFacts, type HostFacts } from './host-info';
import { killProcessesWithArg } from './processes';
import type { CheckedBenchResult } from './results';
import { newSession, WebDriverError, type WebDriverSession } from './webdriver';
import chromiumArgs from './chromium-args.json';

/**
 * The flags a headless Chromium needs on an agent host (no GPU, no sandbox as root, no chatter);
 * a JSON file, so the test phone's Chrome (tools/appium-farm-test-driver) starts the same way.
 */
export const CHROMIUM_ARGS: readonly string[] = chromiumArgs;

export const INSTALL_HINT = 'install chromium and chromium-driver (apt-get install -y chromium chromium-driver)';

export interface BrowserBackendOptions {
  /** Prefix of the serials: `<agentName>-chromium-<slot>`. */
  agentName: string;
  /** Browser slots on this host, one device each; runs on different slots share the CPU. */
  slots: number;
  /** An Appium server to use as it is; absent: the backend runs and supervises its own. */
  appiumUrl?: string;
  /** bench-web's base URL; absent: the backend starts bench-web as a process of its own. */
  benchWebUrl?: string;
  /** The inference server, for the cloud scenario, as the browser reaches it. */
  inferenceUrl: string;
  /** The farm's API as the browser reaches it: the page fetches registered models from it. */
  apiUrl: string;
  chromiumPath: string;
  chromedriverPath: string;
  tags?: readonly string[];
  /** The converted-model cache of the bench-web it starts. */
  modelsCacheDir?: string;
  log?: Logger;
  /** How long Appium may take to open a session, i.e. start chromedriver and Chromium (ms); default 60 s. */
  sessionTimeoutMs?: number;
  /** How often the page's state is read while it runs (ms); default 500. */
  pollMs?: number;
  /** How long the page may take to expose window.benchWeb (ms); default 60 s. */
  pageLoadTimeoutMs?: number;
  /** How long the page may go without finishing an iteration (ms); default 5 min. */
  stallTimeoutMs?: number;
  /** Called with each run's full result (browser, tfjs backend, load breakdown, top-1 classes). */
  onBenchResult?: (serial: string, result: CheckedBenchResult, timings: RunTimings) => void;
}

/** Where a run's wall time went, measured in the agent (not part of the benchmark). */
export interface RunTimings {
  /** POST /session: Appium starts chromedriver, which starts Chromium. */
  sessionMs: number;
  /** Navigation until window.benchWeb answered. */
  pageReadyMs: number;
  /** Page ready until the page reported done. */
  benchmarkMs: number;
}

interface Versions {
  browser: string;
  chromedriver: string;
}

const isAbort = (signal: AbortSignal): boolean => signal.aborted;

/**
 * Headless Chromium on the agent's host, driven through Appium and its Chromium driver: a real
 * device that runs the real bench-web page and reports per-phase timings, with no energy.
 */
export class BrowserBackend implements DeviceBackend {
  readonly name = 'browser' as const;
  onDeviceLost?: (serial: string) => void;
  private readonly log: Logger;
  private readonly appium: AppiumServer | null;
  private readonly serials: string[];
  private readonly busy = new Set<string>();
  private readonly benchWeb: BenchWebHost;
  private host: Promise<HostFacts> | null = null;
  private versions: Promise<Versions> | null = null;
  private versionsNow: Versions | null = null;
  /** Sessions of stopped runs still being deleted, by slot: the slot's next run waits for them. */
  private readonly cleanups = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly options: BrowserBackendOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new Error(`browser backend: slots must be a positive integer (got ${options.slots})`);
    for (const key of ['inferenceUrl', 'apiUrl'] as const) {
      if (!isHttpUrl(options[key])) throw new Error(`browser backend: ${key} must be an http(s) URL (got "${options[key]}")`);
    }
    this.log = options.log ?? pino({ level: 'silent' });
    this.appium = options.appiumUrl ? null : new AppiumServer({ log: this.log });
    this.serials = Array.from({ length: options.slots }, (_, i) => `${options.agentName}-chromium-${i + 1}`);
    this.benchWeb = new BenchWebHost({ ...(options.benchWebUrl && { url: options.benchWebUrl }), ...(options.modelsCacheDir && { modelsCacheDir: options.modelsCacheDir }), log: this.log });
  }

  /** The supervised Appium server (its URL, pid and restarts); null when given one. */
  get appiumServer(): Pick<AppiumServer, 'url' | 'pid' | 'restarts'> | null {
    return this.appium;
  }

  private appiumUrl(): Promise<string> {
    return this.appium ? this.appium.ensureRunning() : Promise.resolve((this.options.appiumUrl ?? '').replace(/\/$/, ''));
  }

  /**
   * What this backend needs on the host, as messages naming what is missing or broken; empty
   * when all is well. Starts nothing.
   */
  async preflight(): Promise<string[]> {
    const problems: string[] = [];
    for (const pkg of ['appium', 'appium-chromium-driver']) {
      try {
        require.resolve(`${pkg}/package.json`);
      } catch {
        problems.push(`the npm package ${pkg} is not installed: run npm ci`);
      }
    }
    let executables = true;
    for (const [what, file] of [
      ['Chromium', this.options.chromiumPath],
      ['chromedriver', this.options.chromedriverPath],
    ] as const) {
      const ok = await fs.access(file, fsConstants.X_OK).then(
        () => true,
        () => false,
      );
      if (!ok) problems.push(`${what} is not an executable at ${file}: ${INSTALL_HINT}`);
      executables &&= ok;
    }
    if (executables) {
      try {
        const { browser, chromedriver } = await this.browserVersions();
        if (browser.split('.')[0] !== chromedriver.split('.')[0]) {
          problems.push(`Chromium ${browser} and chromedriver ${chromedriver} are different major versions: ${INSTALL_HINT}`);
        }
      } catch (err) {
        problems.push(`${message(err)}: ${INSTALL_HINT}`);
      }
    }
    return problems;
  }

  async discover(): Promise<DeviceRegistration[]> {
    const problems = await this.preflight();
    if (problems.length > 0) throw new Error(`browser backend: ${problems.join('; ')}`);
    this.host ??= hostFacts();
    const [host, versions, benchWeb] = await Promise.all([this.host, this.browserVersions(), this.benchWeb.url(), this.appiumUrl()]);
    const server = await this.benchWeb.started();
    return this.serials.map(
      (serial): DeviceRegistration => ({
        serial,
        backend: 'browser',
        manufacturer: host.manufacturer,
        model: `Chromium ${versions.browser} (headless)`,
        osVersion: host.osVersion,
        soc: host.cpuModel,
        ramMb: host.ramMb,
        tags: [...(this.options.tags ?? [])],
        properties: {
          browser: 'chromium',
          browserVersion: versions.browser,
          chromedriverVersion: versions.chromedriver,
          headless: true,
          hostCpu: host.cpuModel,
          cores: host.cores,
          os: host.osName,
          kernel: host.kernel,
          appiumVersion: appiumInstall().version,
          benchWebUrl: benchWeb,
          benchWebVersion: server?.version ?? null,
        },
        health: { batteryPct: null, temperatureC: null, charging: null },
      }),
    );
  }

  health(serial: string): Promise<DeviceHealth> {
    if (!this.serials.includes(serial)) return Promise.reject(new RunError('device_lost', `${serial} is not a browser slot of this agent`));
    // A browser slot has no battery and no sensor the page could read.
    return Promise.resolve({ batteryPct: null, temperatureC: null, charging: null });
  }

  async run(serial: string, context: RunContext): Promise<void> {
    if (!this.serials.includes(serial)) throw new RunError('device_lost', `${serial} is not a browser slot of this agent`);
    if (this.closed) throw new RunError('agent_shutdown', 'the browser backend is closed');
    if (this.busy.has(serial)) throw new RunError('infrastructure', `${serial} is already running a run`);
    const { assignment, signal } = context;
    this.busy.add(serial);
    try {
      await this.cleanups.get(serial);
      const problems = await this.preflight();
      if (problems.length > 0) throw new RunError('driver', `browser backend: ${problems.join('; ')}`);
      context.checkpoint();
      context.status('preparing');
      const [appiumUrl, benchWebUrl] = await Promise.all([
        this.appiumUrl().catch((err: unknown) => {
          throw new RunError('driver', `Appium could not start: ${message(err)}`);
        }),
        this.benchWeb.url().catch((err: unknown) => {
          throw new RunError('infrastructure', `bench-web could not start: ${message(err)}`);
        }),
      ]);
      context.checkpoint();
      const params: BenchParams = {
        model: assignment.model,
        scenario: assignment.scenario,
        iterations: assignment.iterations,
        warmup: assignment.warmup,
        apiUrl: this.options.apiUrl,
        ...(assignment.scenario === 'cloud' ? { inferenceUrl: this.options.inferenceUrl } : {}),
      };
      const { result, rows, timings } = await this.drive(serial, appiumUrl, `${benchWebUrl}?${benchQuery(params, { autostart: true })}`, context);
      context.checkpoint();
      context.describe(runDetails(result, timings, this.versionsNow));
      for (const row of rows) context.record(row);
      this.log.info(
        {
          serial,
          runId: assignment.runId,
          ...timings,
          userAgent: result.userAgent,
          tfjsBackend: result.backend,
          crossOriginIsolated: result.crossOriginIsolated,
          modelLoad: result.modelLoad,
          cloudSplit: result.cloudSplit,
        },
        'browser run finished',
      );
      this.options.onBenchResult?.(serial, result, timings);
    } catch (err) {
      if (isAbort(signal)) throw signal.reason;
      if (err instanceof RunError) throw err;
      if (err instanceof WebDriverError) throw new RunError('driver', `Appium/Chromium: ${err.message}`);
      throw err;
    } finally {
      this.busy.delete(serial);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.cleanups.values());
    await Promise.all([this.appium?.stop(), this.benchWeb.stop()]);
  }

  /** One session: open the page with the run's parameters, wait for it, read its result. */
  private async drive(
    serial: string,
    appiumUrl: string,
    pageUrl: string,
    context: RunContext,
  ): Promise<{ result: CheckedBenchResult; rows: Measurement[]; timings: RunTimings }> {
    const { signal, assignment } = context;
    const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'farm-chromium-'));
    // Each session's chromedriver gets its own port. On the default (9515) the driver starts by
    // killing every chromedriver on that port: another slot's, or another Appium's on this host.
    const chromedriverPort = await freePort('127.0.0.1');
    const capabilities = {
      platformName: 'linux',
      browserName: 'chrome',
      'appium:automationName': 'Chromium',
      'appium:executable': this.options.chromedriverPath,
      'appium:autodownloadEnabled': false,
      'appium:chromedriverPort': chromedriverPort,
      'appium:newCommandTimeout': 300,
      'goog:chromeOptions': { binary: this.options.chromiumPath, args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`] },
    };
    let session: WebDriverSession | null = null;
    const t0 = performance.now();
    // Not cancelled with the run: Appium would finish creating the session anyway, and it must
    // then be deleted, not left holding a browser.
    const creating = newSession(appiumUrl, capabilities, { newSessionTimeoutMs: this.options.sessionTimeoutMs ?? 60_000 });
    try {
      session = await untilAborted(creating, signal);
      const sessionMs = performance.now() - t0;
      context.checkpoint();
      const t1 = performance.now();
      await session.navigate(pageUrl, signal);
      const state = await awaitBenchWeb(session, context, performance.now(), {
        pollMs: this.options.pollMs ?? DEFAULT_POLLING.pollMs,
        loadTimeoutMs: this.options.pageLoadTimeoutMs ?? DEFAULT_POLLING.loadTimeoutMs,
        stallTimeoutMs: this.options.stallTimeoutMs ?? DEFAULT_POLLING.stallTimeoutMs,
      });
      const pageReadyMs = state.readyAt - t1;
      const benchmarkMs = performance.now() - state.readyAt;
      const checked = await readBenchWeb(session, assignment, signal);
      return { ...checked, timings: { sessionMs, pageReadyMs, benchmarkMs } };
    } finally {
      const cleanUp = (async () => {
        const s = session ?? (await creating.catch(() => null));
        await s?.delete().catch((err: unknown) => this.log.warn({ serial, error: message(err) }, 'could not delete the WebDriver session'));
        // A session that failed half-way can leave its browser running with nobody to quit it.
        const orphans = await killProcessesWithArg(`--user-data-dir=${userDataDir}`);
        if (orphans > 0) this.log.warn({ serial, orphans }, 'killed browser processes left behind by the session');
        await fs.rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
      })();
      if (signal.aborted) {
        // A stopped run answers at once; deleting the session (and its busy browser) goes on behind.
        const pending = cleanUp.finally(() => {
          if (this.cleanups.get(serial) === pending) this.cleanups.delete(serial);
        });
        this.cleanups.set(serial, pending);
      } else {
        await cleanUp;
      }
    }
  }

  /** Reads the page's state until it is done; checkpoints between reads, so a stop lands there. */
  /** Versions of the configured binaries; a failure is not cached, so a fixed host recovers. */
  private browserVersions(): Promise<Versions> {
    this.versions ??= Promise.all([binaryVersion(this.options.chromiumPath), binaryVersion(this.options.chromedriverPath)]).then(
      ([browser, chromedriver]) => (this.versionsNow = { browser, chromedriver }),
    );
    this.versions.catch(() => {
      this.versions = null;
    });
    return this.versions;
  }
}

/** Settles with the promise, or rejects with the signal's reason as soon as it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * What the run's browser said beside its rows, kept with the run: the runtime, how model_load
 * split, how cloud requests were split, and each image's top-1 class (bounded: one per image).
 */
export function runDetails(result: CheckedBenchResult, timings: RunTimings, versions: Versions | null): RunDetails {
  const top1: Record<string, { className: string; probability: number; consistent: boolean }> = {};
  for (const t of result.top1) {
    const seen = top1[t.image];
    if (!seen) top1[t.image] = { className: t.className, probability: t.probability, consistent: true };
    else if (seen.className !== t.className) seen.consistent = false;
  }
  return {
    runtime: {
      benchWeb: result.version,
      userAgent: result.userAgent,
      browserVersion: versions?.browser ?? null,
      chromedriverVersion: versions?.chromedriver ?? null,
      tfjs: result.tfjsVersion,
      tfjsBackend: result.backend,
      wasm: result.wasm,
      crossOriginIsolated: result.crossOriginIsolated,
      timerResolutionMs: result.timerResolutionMs,
    },
    modelLoad: result.modelLoad,
    cloudSplit: result.cloudSplit,
    top1,
    agentTimings: { sessionMs: timings.sessionMs, pageReadyMs: timings.pageReadyMs, benchmarkMs: timings.benchmarkMs },
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
