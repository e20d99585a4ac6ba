// Types of phone.js: the fake phone's state (phone.json) and the helpers tests use to make and
// change phones. See README.md.

/** adb's word for the connection; null: unplugged (the phone is not listed at all). */
export type AdbState = 'device' | 'unauthorized' | 'offline' | null;

/** phone.json, in `<FARM_FAKE_ANDROID_DIR>/<serial>/`. */
export interface PhoneState {
  adbState: AdbState;
  /** `transport_id:` in `adb devices -l`. */
  transportId: number;
  /** getprop fixture, relative to device-agent/src/backends/android/fixtures. */
  getprop: string;
  /** `MemTotal` of /proc/meminfo, in kB. */
  memTotalKb: number;
  /** Unix time (ms) at which the phone's uptime was 0: /proc/uptime advances with the wall clock. */
  bootTimeMs: number;
  battery: {
    /** dumpsys battery fixture, relative to the fixtures folder. */
    dumpsys: string;
    /** Replaces the fixture's `level` (out of its `scale`, 100 in every fixture); null keeps it. */
    levelPct: number | null;
    /** Replaces the fixture's `temperature`, in tenths of °C; null keeps it. */
    temperatureTenthsC: number | null;
    /** false: every `<X> powered` of the fixture is false and `status` is 3. */
    charging: boolean;
    /** `current_now` (µA) = a + b·t, t the uptime in seconds as /proc/uptime prints it (2 decimals). */
    currentUa: { a: number; b: number };
    /** `voltage_now` (µV), constant. */
    voltageUv: number;
  };
  screen: { on: boolean; locked: boolean };
  network: { airplane: boolean; defaultNetwork: 'wifi' | 'cellular' | 'none' };
  app: {
    /** The benchmark activity `mobile: startActivity` must name, `<package>/<activity>`. */
    component: string;
    /** Factor on the recorded phase durations: 0.1 runs the app ten times faster. */
    timeScale: number;
    /** When set, the app's result says `error: <this>` (its phases are still written). */
    error: string | null;
  };
  /** Ports P of `adb reverse tcp:P tcp:P`, in the order they were made; unplugging clears them. */
  reversePorts: number[];
}

export interface CreatePhoneOptions {
  /** Default: FARM_FAKE_ANDROID_DIR. */
  dir?: string;
  /** Default `device`. */
  adbState?: AdbState;
  /** Default: the number of phones already in the folder + 1. */
  transportId?: number;
  /** Default `google-pixel-8-pro/getprop.txt`. */
  getprop?: string;
  memTotalKb: number;
  /** Default: an hour ago. */
  bootTimeMs?: number;
  /** Defaults: `google-pixel-c/dumpsys-battery.txt`, the fixture's level and temperature, not charging. */
  battery: Partial<PhoneState['battery']> & Pick<PhoneState['battery'], 'currentUa' | 'voltageUv'>;
  /** Default: on and unlocked. */
  screen?: Partial<PhoneState['screen']>;
  /** Default: airplane mode off, cellular. */
  network?: Partial<PhoneState['network']>;
  /** Default: `org.example.bench/.BenchmarkActivity`, time scale 1, no error. */
  app?: Partial<PhoneState['app']>;
}

/** A recorded real run, replayed by the fake benchmark app (recorded-run.<model>.json). */
export interface RecordedRun {
  source: string;
  model: string;
  iterations: number;
  warmup: number;
  tfjsVersion: string;
  top1: Record<'on_device' | 'cloud', { className: string; probability: number }>;
  scenarios: Record<'on_device' | 'cloud', { iteration: number; warmup: boolean; phase: string; durationMs: number }[]>;
}

export const ENV_DIR: 'FARM_FAKE_ANDROID_DIR';
export const FIXTURES_DIR: string;
export function phoneDir(serial: string, dir?: string): string;
export function readPhone(serial: string, dir?: string): PhoneState | null;
export function listPhones(dir?: string): string[];
export function createFakePhone(serial: string, options: CreatePhoneOptions): PhoneState;
export function updateFakePhone(serial: string, change: (phone: PhoneState) => void, dir?: string): PhoneState;
/** adb loses the phone (adbState null), it stops charging and its reverse forwards are dropped. */
export function unplugFakePhone(serial: string, dir?: string): PhoneState;
export function setFakePhoneCharging(serial: string, charging: boolean, dir?: string): PhoneState;
export function writeAtomic(file: string, data: string | Buffer): void;
export function uptimeCentis(phone: PhoneState, nowMs: number): number;
export function batteryCurrentUa(phone: PhoneState, uptimeS: number): number;
export function sampleLines(phone: PhoneState, nowMs: number): { uptime: string; currentNow: string; voltageNow: string };
export function wallClockSampleLines(phone: PhoneState, nowNs: bigint): { date: string; currentNow: string; voltageNow: string };
export function getpropText(phone: PhoneState): string;
export function dumpsysBatteryText(phone: PhoneState): string;
export function dumpsysConnectivityText(phone: PhoneState): string;
export function dumpsysPowerText(phone: PhoneState): string;
export function meminfoText(phone: PhoneState): string;
export function devicesLine(serial: string, phone: PhoneState, long: boolean): string;
export function sdcardFile(serial: string, remote: string, dir?: string): string | null;
export function resultRemotePath(packageName: string, resultFile: string): string;
