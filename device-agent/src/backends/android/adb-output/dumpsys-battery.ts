/** Where charge comes from, as `dumpsys battery` names it ("<X> powered: true"). */
export type ChargingSource = 'ac' | 'usb' | 'wireless' | 'dock';

export interface BatteryState {
  levelPct: number;
  /** `temperature` is in tenths of a degree Celsius. */
  temperatureC: number;
  voltageMv: number;
  charging: boolean;
  chargingSource: ChargingSource | null;
  /** BatteryManager.BATTERY_STATUS_*: 1 unknown, 2 charging, 3 discharging, 4 not charging, 5 full. */
  status: number;
}

const SOURCES: readonly [ChargingSource, string][] = [
  ['ac', 'AC powered'],
  ['usb', 'USB powered'],
  ['wireless', 'Wireless powered'],
  ['dock', 'Dock powered'],
];
const STATUS_CHARGING = 2;

/**
 * Parses `adb shell dumpsys battery`. Only the "Current Battery Service state:" block's own fields
 * are read; vendors append more lines (Samsung adds dozens, some unindented), which are ignored.
 * The level is scaled to percent by `scale` when it is given. Charging means any "<X> powered"
 * is true or status is 2 (charging); a full battery on a charger (status 5) is charging too, by
 * its powered flag.
 */
export function parseDumpsysBattery(text: string): BatteryState {
  if (!text.includes('Current Battery Service state:')) {
    throw new Error('dumpsys battery: no "Current Battery Service state:" header');
  }
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([^:]+?):\s*(.*)$/.exec(line);
    if (match && !fields.has(match[1])) fields.set(match[1], match[2].trim());
  }
  const int = (key: string): number => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`dumpsys battery: no "${key}" field`);
    if (!/^-?\d+$/.test(value)) throw new Error(`dumpsys battery: "${key}" is not an integer: "${value}"`);
    return Number(value);
  };
  const level = int('level');
  const scale = fields.has('scale') ? int('scale') : 100;
  if (scale <= 0) throw new Error(`dumpsys battery: "scale" must be positive, got ${scale}`);
  const status = int('status');
  const powered = SOURCES.filter(([, key]) => {
    const value = fields.get(key);
    if (value !== undefined && value !== 'true' && value !== 'false') {
      throw new Error(`dumpsys battery: "${key}" is not true/false: "${value}"`);
    }
    return value === 'true';
  });
  return {
    levelPct: (level * 100) / scale,
    temperatureC: int('temperature') / 10,
    voltageMv: int('voltage'),
    charging: powered.length > 0 || status === STATUS_CHARGING,
    chargingSource: powered[0]?.[0] ?? null,
    status,
  };
}
