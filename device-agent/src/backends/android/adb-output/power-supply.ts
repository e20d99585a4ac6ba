/**
 * Parses a power_supply `uevent` file (`/sys/class/power_supply/<name>/uevent`): one
 * `POWER_SUPPLY_<PROP>=<value>` per line. Keys are kept as written. Values are not converted:
 * their units and signs depend on the driver (see readBatteryCurrent).
 */
export function parsePowerSupplyUevent(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) throw new Error(`uevent: line ${index + 1} is not KEY=value: "${line}"`);
    entries.set(match[1], match[2]);
  }
  if (entries.size === 0) throw new Error('uevent: no KEY=value lines');
  if (![...entries.keys()].some((key) => key.startsWith('POWER_SUPPLY_'))) {
    throw new Error('uevent: no POWER_SUPPLY_* key; is this a power_supply uevent?');
  }
  return entries;
}

/**
 * How a driver signs `current_now`:
 * - `discharge-positive`: positive while the battery discharges. Qualcomm fuel gauges (qpnp,
 *   bms / fg; e.g. Xiaomi Mi 6 reads -1202147 µA while charging).
 * - `discharge-negative`: negative while it discharges, as the kernel's sysfs-class-power ABI
 *   documents and Google's Pixel drivers report.
 * - `infer`: decide from a sample taken while the phone is known to discharge (on battery,
 *   not plugged): that sample's sign is the discharge sign. The result names the convention
 *   found, so a caller pins it for later samples, when the phone may be charging.
 */
export type CurrentSign = 'discharge-positive' | 'discharge-negative' | 'infer';

/**
 * Units of `current_now`. The kernel ABI says µA and most phones follow it; some vendor
 * kernels (older Samsung and MediaTek ones) report mA. Magnitude cannot tell them apart safely
 * (an idle phone draws a few mA, that is a few thousand µA), so the caller states it.
 */
export type CurrentUnit = 'uA' | 'mA';

export interface BatteryCurrentOptions {
  /** Default `uA`. */
  currentUnit?: CurrentUnit;
  /** Default `infer`. */
  sign?: CurrentSign;
  /** Whether the phone is on battery at this sample; `infer` needs it to be true. */
  discharging?: boolean;
}

export interface BatteryCurrent {
  /** Battery current in mA, positive = discharge (energy leaving the battery). */
  currentMa: number;
  voltageMv: number;
  /** The convention applied: the one given, or the one inferred. */
  sign: Exclude<CurrentSign, 'infer'>;
}

/**
 * Normalises raw `current_now` and `voltage_now` readings (sysfs files or the uevent's
 * POWER_SUPPLY_CURRENT_NOW / POWER_SUPPLY_VOLTAGE_NOW) to mA and mV.
 * Voltage: the ABI says µV; a value below 100000 is taken as mV already (a phone cell sits
 * between about 3000 and 4500 mV, or 3000000 and 4500000 µV, so the two never overlap).
 */
export function readBatteryCurrent(
  raw: { currentNow: string; voltageNow: string },
  options: BatteryCurrentOptions = {},
): BatteryCurrent {
  const current = parseInteger('current_now', raw.currentNow);
  const voltage = parseInteger('voltage_now', raw.voltageNow);
  if (voltage <= 0) throw new Error(`voltage_now must be positive, got ${voltage}`);
  const requested = options.sign ?? 'infer';
  let sign: Exclude<CurrentSign, 'infer'>;
  if (requested !== 'infer') {
    sign = requested;
  } else if (options.discharging === true) {
    sign = current < 0 ? 'discharge-negative' : 'discharge-positive';
  } else {
    throw new Error('current_now: cannot infer the sign unless the phone is discharging; pass discharging: true or a sign');
  }
  const ma = (options.currentUnit ?? 'uA') === 'uA' ? current / 1000 : current;
  return {
    currentMa: sign === 'discharge-positive' ? ma : -ma,
    voltageMv: voltage < 100_000 ? voltage : voltage / 1000,
    sign,
  };
}

function parseInteger(name: string, text: string): number {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) throw new Error(`${name} is not an integer: "${trimmed}"`);
  return Number(trimmed);
}
