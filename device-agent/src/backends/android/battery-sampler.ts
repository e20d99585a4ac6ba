import type { Adb } from './adb';
import { readBatteryCurrent, type CurrentSign, type CurrentUnit } from './adb-output/power-supply';
import type { PowerSample } from './energy';

const BATTERY = ['/sys/class/power_supply/battery/current_now', '/sys/class/power_supply/battery/voltage_now'];

/**
 * The clock a sample is stamped with, read in the same command as the battery files: the boot
 * clock (`/proc/uptime`, that of `SystemClock.elapsedRealtime()`, 10 ms steps) or the wall
 * clock (`date +%s%N`, that of a web page's `performance.timeOrigin`).
 */
export type SampleClock = 'boot' | 'wall';

const COMMANDS: Record<SampleClock, readonly string[]> = {
  boot: ['cat', '/proc/uptime', ...BATTERY],
  wall: ['date', '+%s%N', ';', 'cat', ...BATTERY],
};

export interface SamplerOptions {
  clock: SampleClock;
  intervalMs: number;
  currentUnit: CurrentUnit;
  /** `infer` reads it off the first sample, which must be taken on battery. */
  sign: CurrentSign;
}

/**
 * Reads the battery's current and voltage over adb at a fixed interval while a run goes, each
 * sample stamped with the phone's own clock (see SampleClock).
 */
export class BatterySampler {
  private readonly samples: PowerSample[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  private sign: CurrentSign;
  private failure: Error | null = null;

  constructor(
    private readonly adb: Adb,
    private readonly serial: string,
    private readonly options: SamplerOptions,
  ) {
    this.sign = options.sign;
  }

  /** Starts sampling; resolves once the first sample is in, so what follows is covered. */
  async start(): Promise<void> {
    this.keep(await this.sample());
    this.running ??= this.loop();
  }

  /**
   * Stops sampling, takes one last sample so what came before is covered, and returns the
   * trace; throws what made sampling fail, if anything did.
   */
  async stop(): Promise<PowerSample[]> {
    this.stopped = true;
    await this.running;
    if (this.failure) throw this.failure;
    // The boot clock ticks in 10 ms steps: wait for the next tick so the last sample is later.
    await new Promise((resolve) => setTimeout(resolve, 10));
    this.keep(await this.sample());
    return this.samples;
  }

  private async loop(): Promise<void> {
    let next = Date.now();
    while (!this.stopped) {
      next += this.options.intervalMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
      if (this.stopped) return;
      try {
        this.keep(await this.sample());
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
        return;
      }
    }
  }

  /** Keeps a sample unless the boot clock has not moved since the last one. */
  private keep(sample: PowerSample): void {
    const last = this.samples[this.samples.length - 1];
    if (!last || sample.tMs > last.tMs) this.samples.push(sample);
  }

  private async sample(): Promise<PowerSample> {
    return this.parse(await this.adb.shell(this.serial, COMMANDS[this.options.clock]));
  }

  private parse(output: string): PowerSample {
    const [time, currentNow, voltageNow] = output.trim().split(/\r?\n/);
    const stamp = Number(time?.trim().split(/\s+/)[0]);
    if (!Number.isFinite(stamp) || currentNow === undefined || voltageNow === undefined) {
      throw new Error(`battery sample: expected the time, current_now and voltage_now, got "${output.trim().slice(0, 120)}"`);
    }
    // Uptime in seconds, or epoch time in ns (beyond 2^53: a few hundred ns are lost, no matter).
    const tMs = this.options.clock === 'boot' ? stamp * 1000 : stamp / 1e6;
    const reading = readBatteryCurrent({ currentNow, voltageNow }, { currentUnit: this.options.currentUnit, sign: this.sign, discharging: true });
    // The convention found on the first sample holds for the rest of the run.
    this.sign = reading.sign;
    return { tMs, currentMa: reading.currentMa, voltageMv: reading.voltageMv };
  }
}
