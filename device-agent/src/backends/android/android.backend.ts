import type { DeviceHealth, DeviceRegistration } from '@farm/contracts';
import pino from 'pino';
import type { Logger } from '../../logger';
import { benchQuery, type BenchParams, type RunDetails } from '@farm/contracts';
import { RunError, sleep, type DeviceBackend, type RunContext } from '../backend';
import { awaitBenchWeb, DEFAULT_POLLING, readBenchWeb, type BenchWebHost, type PagePolling } from '../bench-web-page';
import { AppiumServer } from '../browser/appium-server';
import { newSession, WebDriverError, type WebDriverSession } from '../browser/webdriver';
import { Adb, AdbError } from './adb';
import { parseDumpsysBattery, type BatteryState } from './adb-output/dumpsys-battery';
import { deviceInfo, parseGetprop } from './adb-output/getprop';
import { parseMeminfoTotalMb } from './adb-output/meminfo';
import { parseNetworkState, type NetworkState } from './adb-output/network-state';
import type { CurrentSign, CurrentUnit } from './adb-output/power-supply';
import { parseApkResult, toMeasurements, type PhaseSpan } from './apk-result';
import { BatterySampler } from './battery-sampler';

export interface AndroidBackendOptions {
  adb: Adb;
  /** What runs the benchmark: bench-web in Chrome, or the native app of `apkComponent`. */
  runner: 'chrome' | 'apk';
  /** The native benchmark app's activity, `package/.Activity` (docs/android-apk.md). */
  apkComponent?: string;
  /** bench-web, for the chrome runner. */
  benchWeb: BenchWebHost;
  polling?: PagePolling;
  /** Appium's automation for phones: UiAutomator2 on a rack, the project's FarmTest driver in tests. */
  automationName: string;
  /** An Appium server to use; unset, the backend starts and supervises its own. */
  appiumUrl?: string;
  apiUrl: string;
  inferenceUrl: string;
  minBatteryPct: number;
  maxTemperatureC: number;
  /** How long a hot phone may take to cool below maxTemperatureC before it counts as unfit. */
  cooldownMs: number;
  sampleIntervalMs: number;
  currentUnit: CurrentUnit;
  currentSign: CurrentSign;
  /** How often adb is asked which phones are attached. */
  discoveryIntervalMs: number;
  /** How long a phone's battery reading stays fresh for heartbeats. */
  healthTtlMs: number;
  tags: readonly string[];
  log?: Logger;
}

/** What a runner hands back: the phases on the sampler's clock, facts for the run, the benchmark's error. */
interface Outcome {
  phases: PhaseSpan[];
  details: RunDetails;
  error: string | null;
}

const COOLDOWN_POLL_MS = 5_000;
const RESULT_POLL_MS = 250;

/**
 * Android phones over adb: found and watched with `adb devices`, described from getprop and
 * dumpsys, checked before each run (battery, temperature, screen, network), and run through
 * Appium UiAutomator2: bench-web in Chrome, or the native benchmark app. Either gives the
 * phases with their times on a phone clock, and the battery current sampled over adb on that
 * clock meanwhile gives each phase's energy.
 */
export class AndroidBackend implements DeviceBackend {
  readonly name = 'android' as const;
  onDeviceLost?: (serial: string) => void;
  onDevicesChanged?: () => void;
  private readonly log: Logger;
  private readonly appium: AppiumServer | null;
  private readonly attached = new Set<string>();
  private readonly warned = new Set<string>();
  /** Phones adb lists as ready but that could not be described: not asked again until replugged. */
  private readonly unreadable = new Set<string>();
  private readonly healthCache = new Map<string, { at: number; health: DeviceHealth }>();
  private watcher: NodeJS.Timeout | null = null;

  constructor(private readonly options: AndroidBackendOptions) {
    if (options.runner === 'apk' && !/^[\w.]+\/[\w.$]+$/.test(options.apkComponent ?? '')) {
      throw new Error(`android backend: the apk runner needs the app's component as package/Activity (got "${options.apkComponent ?? ''}")`);
    }
    this.log = options.log ?? pino({ level: 'silent' });
    this.appium = options.appiumUrl ? null : new AppiumServer({ log: this.log });
  }

  async discover(): Promise<DeviceRegistration[]> {
    const found: DeviceRegistration[] = [];
    for (const device of await this.options.adb.devices()) {
      if (device.state !== 'device') {
        if (!this.warned.has(`${device.serial}/${device.state}`)) {
          this.warned.add(`${device.serial}/${device.state}`);
          this.log.warn({ serial: device.serial, state: device.state }, device.state === 'unauthorized' ? 'phone not authorised for adb: accept the prompt on it' : 'phone not ready for adb');
        }
        continue;
      }
      if (this.unreadable.has(device.serial)) continue;
      try {
        found.push(await this.describe(device.serial));
      } catch (error) {
        this.unreadable.add(device.serial);
        this.log.warn({ serial: device.serial, error: String(error) }, 'phone skipped until it is plugged in again: cannot read what it is');
      }
    }
    this.attached.clear();
    for (const d of found) this.attached.add(d.serial);
    this.watcher ??= setInterval(() => void this.watch(), this.options.discoveryIntervalMs);
    return found;
  }

  async health(serial: string): Promise<DeviceHealth> {
    const cached = this.healthCache.get(serial);
    if (cached && Date.now() - cached.at < this.options.healthTtlMs) return cached.health;
    const battery = await this.battery(serial);
    const health = { batteryPct: battery.levelPct, temperatureC: battery.temperatureC, charging: battery.charging };
    this.healthCache.set(serial, { at: Date.now(), health });
    return health;
  }

  async run(serial: string, context: RunContext): Promise<void> {
    const { signal } = context;
    try {
      const { battery, network } = await this.check(serial, context);
      context.describe({ runner: this.options.runner, network, batteryAtStart: { levelPct: battery.levelPct, temperatureC: battery.temperatureC, charging: battery.charging } });
      // A phone charging over USB shows the charger's current, not what the benchmark draws.
      const sampler = battery.charging
        ? null
        : new BatterySampler(this.options.adb, serial, {
            // The app times phases on the boot clock; a web page on the wall clock.
            clock: this.options.runner === 'apk' ? 'boot' : 'wall',
            intervalMs: this.options.sampleIntervalMs,
            currentUnit: this.options.currentUnit,
            sign: this.options.currentSign,
          });
      await sampler?.start();
      let outcome: Outcome;
      try {
        outcome = this.options.runner === 'apk' ? await this.runApp(serial, context) : await this.runPage(serial, context);
      } catch (error) {
        await sampler?.stop().catch(() => undefined);
        throw error;
      }
      const samples = await sampler?.stop();
      const { rows, note } = toMeasurements(
        outcome.phases,
        samples ? { samples } : { reason: `the phone was charging (${battery.chargingSource ?? 'powered'}) at the start: battery current readings show the charger, not the benchmark` },
      );
      for (const row of rows) context.record(row);
      context.describe({ ...outcome.details, energy: note });
      if (outcome.error !== null) throw new RunError('benchmark', outcome.error);
    } catch (error) {
      if (signal.aborted) throw signal.reason as Error;
      throw this.classify(serial, error);
    }
  }

  async close(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = null;
    await Promise.all([this.appium?.stop(), this.options.benchWeb.stop()]);
  }

  private async describe(serial: string): Promise<DeviceRegistration> {
    const info = deviceInfo(parseGetprop(await this.options.adb.shell(serial, ['getprop'])));
    const ramMb = parseMeminfoTotalMb(await this.options.adb.shell(serial, ['cat', '/proc/meminfo']));
    const battery = await this.battery(serial);
    return {
      serial,
      backend: 'android',
      manufacturer: info.manufacturer,
      model: info.model,
      osVersion: info.androidVersion,
      soc: info.soc,
      ramMb,
      tags: [...this.options.tags],
      properties: { sdk: info.sdk, abi: info.abi, fingerprint: info.fingerprint },
      health: { batteryPct: battery.levelPct, temperatureC: battery.temperatureC, charging: battery.charging },
    };
  }

  private async battery(serial: string, signal?: AbortSignal): Promise<BatteryState> {
    return parseDumpsysBattery(await this.options.adb.shell(serial, ['dumpsys', 'battery'], signal));
  }

  /** Phones that left go to the agent as lost; new ones make it register again. */
  private async watch(): Promise<void> {
    let now: Set<string>;
    try {
      now = new Set((await this.options.adb.devices()).filter((d) => d.state === 'device').map((d) => d.serial));
    } catch (error) {
      this.log.warn({ error: String(error) }, 'adb devices failed');
      return;
    }
    for (const serial of [...this.unreadable]) if (!now.has(serial)) this.unreadable.delete(serial);
    for (const serial of [...this.attached]) {
      if (now.has(serial)) continue;
      this.attached.delete(serial);
      this.healthCache.delete(serial);
      this.log.warn({ serial }, 'phone disconnected');
      this.onDeviceLost?.(serial);
    }
    if ([...now].some((serial) => !this.attached.has(serial) && !this.unreadable.has(serial))) this.onDevicesChanged?.();
  }

  /**
   * The checks before a run: enough battery, cool enough (waiting for it to cool), the screen
   * on, and the network the job asks for. A phone that fails them is `device_unfit`.
   */
  private async check(serial: string, context: RunContext): Promise<{ battery: BatteryState; network: NetworkState }> {
    const { adb, minBatteryPct, maxTemperatureC, cooldownMs } = this.options;
    let battery = await this.battery(serial, context.signal);
    if (battery.levelPct < minBatteryPct) throw new RunError('device_unfit', `battery at ${battery.levelPct}%, below the minimum of ${minBatteryPct}%`);
    const coolBy = Date.now() + cooldownMs;
    while (battery.temperatureC >= maxTemperatureC) {
      if (Date.now() >= coolBy) {
        throw new RunError('device_unfit', `battery at ${battery.temperatureC} °C after ${Math.round(cooldownMs / 1000)} s of cool-down; the limit is ${maxTemperatureC} °C`);
      }
      context.checkpoint();
      await sleep(Math.min(COOLDOWN_POLL_MS, Math.max(0, coolBy - Date.now())), context.signal);
      battery = await this.battery(serial, context.signal);
    }
    if (!screenAwake(await adb.shell(serial, ['dumpsys', 'power'], context.signal))) {
      await adb.shell(serial, ['input', 'keyevent', 'KEYCODE_WAKEUP'], context.signal);
      if (!screenAwake(await adb.shell(serial, ['dumpsys', 'power'], context.signal))) throw new RunError('device_unfit', 'the screen does not turn on');
    }
    const airplaneModeOn = await adb.shell(serial, ['settings', 'get', 'global', 'airplane_mode_on'], context.signal);
    const network = parseNetworkState({
      airplaneModeOn,
      ...(airplaneModeOn.trim() === '1' ? {} : { connectivity: await adb.shell(serial, ['dumpsys', 'connectivity'], context.signal) }),
    });
    const wanted = context.assignment.network;
    if (['wifi', 'cellular', 'airplane'].includes(wanted) && wanted !== network) {
      throw new RunError('device_unfit', `the job asks for network "${wanted}" but the phone is on "${network}"`);
    }
    return { battery, network };
  }

  /** The native app (docs/android-apk.md): started through Appium, its result file read. */
  private async runApp(serial: string, context: RunContext): Promise<Outcome> {
    const { assignment, signal } = context;
    const session = await this.openSession(serial, {}, signal);
    try {
      const resultFile = `${assignment.runId}.${assignment.attempt}.json`;
      const component = this.options.apkComponent ?? '';
      const [pkg] = component.split('/');
      const extras = [
        ['s', 'farm.run_id', assignment.runId],
        ['i', 'farm.attempt', String(assignment.attempt)],
        ['s', 'farm.model', assignment.model],
        ['s', 'farm.model_url', `${this.options.apiUrl.replace(/\/$/, '')}/api/models/${encodeURIComponent(assignment.model)}`],
        ['s', 'farm.scenario', assignment.scenario],
        ['i', 'farm.iterations', String(assignment.iterations)],
        ['i', 'farm.warmup', String(assignment.warmup)],
        ['s', 'farm.server_url', this.options.inferenceUrl],
        ['s', 'farm.result_file', resultFile],
      ];
      await session.post('/execute/sync', { script: 'mobile: startActivity', args: [{ component, extras }] }, signal);
      context.status('running');
      const text = await this.awaitFile(session, `/sdcard/Android/data/${pkg}/files/farm/${resultFile}`, context);
      const result = parseApkResult(text, assignment);
      if (typeof result === 'string') throw new RunError('benchmark', result);
      return {
        phases: result.phases,
        details: { ...(result.runtime && { runtime: result.runtime }), ...(result.top1 && { top1: result.top1 }) },
        error: result.error === null ? null : `the app reported: ${result.error}`,
      };
    } finally {
      await session.delete().catch((error: unknown) => this.log.warn({ serial, error: String(error) }, 'appium session not deleted'));
    }
  }

  /**
   * bench-web in Chrome on the phone: the page reaches bench-web, the inference server and the
   * API on this host through `adb reverse` (when they are on this host), runs, and its phases
   * come back with their start times on the phone's wall clock.
   */
  private async runPage(serial: string, context: RunContext): Promise<Outcome> {
    const { assignment, signal } = context;
    const [page, apiUrl, inferenceUrl] = [
      await this.reachable(serial, await this.options.benchWeb.url(), signal),
      await this.reachable(serial, this.options.apiUrl, signal),
      await this.reachable(serial, this.options.inferenceUrl, signal),
    ];
    const params: BenchParams = {
      model: assignment.model,
      scenario: assignment.scenario,
      iterations: assignment.iterations,
      warmup: assignment.warmup,
      apiUrl,
      ...(assignment.scenario === 'cloud' ? { inferenceUrl } : {}),
    };
    const session = await this.openSession(serial, { browserName: 'Chrome' }, signal);
    try {
      await session.navigate(`${page}?${benchQuery(params, { autostart: true })}`, signal);
      await awaitBenchWeb(session, context, performance.now(), this.options.polling ?? DEFAULT_POLLING);
      const { result } = await readBenchWeb(session, assignment, signal);
      return {
        phases: result.measurements.map((m, i) => {
          const startMs = result.timeOrigin + (result.phaseStarts[i] ?? NaN);
          return { iteration: m.iteration, warmup: m.warmup, phase: m.phase, startMs, endMs: startMs + m.durationMs };
        }),
        details: {
          runtime: { benchWeb: result.version, userAgent: result.userAgent, tfjs: result.tfjsVersion, tfjsBackend: result.backend, wasm: result.wasm },
          modelLoad: result.modelLoad,
          cloudSplit: result.cloudSplit,
        },
        error: null,
      };
    } finally {
      await session.delete().catch((error: unknown) => this.log.warn({ serial, error: String(error) }, 'appium session not deleted'));
    }
  }

  /** A URL as the phone reaches it: a service on this host's loopback is reversed onto the phone's. */
  private async reachable(serial: string, url: string, signal: AbortSignal): Promise<string> {
    const { hostname, port, protocol } = new URL(url);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) return url;
    const local = port || (protocol === 'https:' ? '443' : '80');
    await this.options.adb.run(['-s', serial, 'reverse', `tcp:${local}`, `tcp:${local}`], signal);
    return url;
  }

  /** A session on the phone, unlocked (the last of the checks: only Appium can unlock a keyguard). */
  private async openSession(serial: string, extra: Record<string, unknown>, signal: AbortSignal): Promise<WebDriverSession> {
    const appiumUrl = this.appium ? await this.appium.ensureRunning() : (this.options.appiumUrl ?? '').replace(/\/$/, '');
    const session = await newSession(
      appiumUrl,
      { platformName: 'Android', 'appium:automationName': this.options.automationName, 'appium:udid': serial, 'appium:noReset': true, 'appium:newCommandTimeout': 600, ...extra },
      { newSessionTimeoutMs: 120_000 },
      signal,
    );
    try {
      if ((await session.post('/appium/device/is_locked', {}, signal)) === true) await session.post('/appium/device/unlock', {}, signal);
    } catch (error) {
      await session.delete().catch(() => undefined);
      throw error;
    }
    return session;
  }

  /** Polls for the app's result file; a stop request ends the wait at the next poll. */
  private async awaitFile(session: WebDriverSession, path: string, context: RunContext): Promise<string> {
    for (;;) {
      context.checkpoint();
      try {
        const base64 = await session.post('/appium/device/pull_file', { path }, context.signal);
        if (typeof base64 === 'string') return Buffer.from(base64, 'base64').toString('utf8');
      } catch (error) {
        // Not there yet; anything else (the phone gone, the driver broken) ends the run.
        if (!(error instanceof WebDriverError) || !/does not exist|no such file|not found/i.test(error.message)) throw error;
      }
      await sleep(RESULT_POLL_MS, context.signal);
    }
  }

  /** What an error means for the attempt: a phone gone is `device_lost`, Appium's trouble is `driver`. */
  private classify(serial: string, error: unknown): Error {
    if (error instanceof RunError) return error;
    if (error instanceof AdbError && error.deviceGone) {
      if (this.attached.delete(serial)) this.onDeviceLost?.(serial);
      return new RunError('device_lost', `${serial}: ${error.stderr.trim() || error.message}`);
    }
    if (error instanceof WebDriverError) return new RunError('driver', error.message);
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Whether `dumpsys power` says the screen is on (`mWakefulness=Awake`). */
export function screenAwake(dumpsysPower: string): boolean {
  const state = /mWakefulness=(\w+)/.exec(dumpsysPower)?.[1];
  if (!state) throw new Error('dumpsys power: no mWakefulness line');
  return state === 'Awake';
}
