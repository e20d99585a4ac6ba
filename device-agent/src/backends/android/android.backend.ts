import type { DeviceHealth, DeviceRegistration } from '@farm/contracts';
import pino from 'pino';
import type { Logger } from '../../logger';
import { RunError, sleep, type DeviceBackend, type RunContext } from '../backend';
import { AppiumServer } from '../browser/appium-server';
import { newSession, WebDriverError, type WebDriverSession } from '../browser/webdriver';
import { Adb, AdbError } from './adb';
import { parseDumpsysBattery, type BatteryState } from './adb-output/dumpsys-battery';
import { deviceInfo, parseGetprop } from './adb-output/getprop';
import { parseMeminfoTotalMb } from './adb-output/meminfo';
import { parseNetworkState, type NetworkState } from './adb-output/network-state';
import type { CurrentSign, CurrentUnit } from './adb-output/power-supply';
import { parseApkResult, toMeasurements } from './apk-result';
import { BatterySampler } from './battery-sampler';

export interface AndroidBackendOptions {
  adb: Adb;
  /** The native benchmark app's activity, `package/.Activity` (docs/android-apk.md). */
  apkComponent: string;
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

const COOLDOWN_POLL_MS = 5_000;
const RESULT_POLL_MS = 250;

/**
 * Android phones over adb: found and watched with `adb devices`, described from getprop and
 * dumpsys, checked before each run (battery, temperature, screen, network), and run through
 * Appium, which starts the native benchmark app; its result file gives the phases, and the
 * battery current sampled over adb meanwhile gives each phase's energy.
 */
export class AndroidBackend implements DeviceBackend {
  readonly name = 'android' as const;
  onDeviceLost?: (serial: string) => void;
  onDevicesChanged?: () => void;
  private readonly log: Logger;
  private readonly appium: AppiumServer | null;
  private readonly attached = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly healthCache = new Map<string, { at: number; health: DeviceHealth }>();
  private watcher: NodeJS.Timeout | null = null;

  constructor(private readonly options: AndroidBackendOptions) {
    if (!/^[\w.]+\/[\w.$]+$/.test(options.apkComponent)) {
      throw new Error(`android backend: the APK component must be package/Activity (got "${options.apkComponent}")`);
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
      try {
        found.push(await this.describe(device.serial));
      } catch (error) {
        this.log.warn({ serial: device.serial, error: String(error) }, 'phone skipped: cannot read what it is');
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
    const { assignment, signal } = context;
    try {
      const { battery, network } = await this.check(serial, context);
      context.describe({ network, batteryAtStart: { levelPct: battery.levelPct, temperatureC: battery.temperatureC, charging: battery.charging } });
      // A phone charging over USB shows the charger's current, not what the benchmark draws.
      const sampler = battery.charging
        ? null
        : new BatterySampler(this.options.adb, serial, { intervalMs: this.options.sampleIntervalMs, currentUnit: this.options.currentUnit, sign: this.options.currentSign });
      await sampler?.start();
      context.status('running');
      let text: string;
      try {
        text = await this.runApp(serial, context);
      } catch (error) {
        await sampler?.stop().catch(() => undefined);
        throw error;
      }
      const samples = await sampler?.stop();
      const result = parseApkResult(text, assignment);
      if (typeof result === 'string') throw new RunError('benchmark', result);
      const { rows, note } = toMeasurements(
        result,
        samples ? { samples } : { reason: `the phone was charging (${battery.chargingSource ?? 'powered'}) at the start: battery current readings show the charger, not the benchmark` },
      );
      for (const row of rows) context.record(row);
      context.describe({ energy: note, ...(result.runtime && { runtime: result.runtime }), ...(result.top1 && { top1: result.top1 }) });
      if (result.error !== null) throw new RunError('benchmark', `the app reported: ${result.error}`);
    } catch (error) {
      if (signal.aborted) throw signal.reason as Error;
      throw this.classify(serial, error);
    }
  }

  async close(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = null;
    await this.appium?.stop();
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
    for (const serial of [...this.attached]) {
      if (now.has(serial)) continue;
      this.attached.delete(serial);
      this.healthCache.delete(serial);
      this.log.warn({ serial }, 'phone disconnected');
      this.onDeviceLost?.(serial);
    }
    if ([...now].some((serial) => !this.attached.has(serial))) this.onDevicesChanged?.();
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

  /** Starts the app through Appium for this run and waits for its result file; returns the file. */
  private async runApp(serial: string, context: RunContext): Promise<string> {
    const { assignment, signal } = context;
    const appiumUrl = this.appium ? await this.appium.ensureRunning() : (this.options.appiumUrl ?? '').replace(/\/$/, '');
    const session = await newSession(
      appiumUrl,
      { platformName: 'Android', 'appium:automationName': this.options.automationName, 'appium:udid': serial, 'appium:noReset': true, 'appium:newCommandTimeout': 600 },
      { newSessionTimeoutMs: 120_000 },
      signal,
    );
    try {
      if ((await session.post('/appium/device/is_locked', {}, signal)) === true) await session.post('/appium/device/unlock', {}, signal);
      const resultFile = `${assignment.runId}.${assignment.attempt}.json`;
      const [pkg] = this.options.apkComponent.split('/');
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
      await session.post('/execute/sync', { script: 'mobile: startActivity', args: [{ component: this.options.apkComponent, extras }] }, signal);
      return await this.awaitFile(session, `/sdcard/Android/data/${pkg}/files/farm/${resultFile}`, context);
    } finally {
      await session.delete().catch((error: unknown) => this.log.warn({ serial, error: String(error) }, 'appium session not deleted'));
    }
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
