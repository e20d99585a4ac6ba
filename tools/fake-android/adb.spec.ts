import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAdbDevices } from '../../device-agent/src/backends/android/adb-output/adb-devices';
import { parseDumpsysBattery } from '../../device-agent/src/backends/android/adb-output/dumpsys-battery';
import { deviceInfo, parseGetprop } from '../../device-agent/src/backends/android/adb-output/getprop';
import { parseMeminfoTotalMb } from '../../device-agent/src/backends/android/adb-output/meminfo';
import { parseNetworkState } from '../../device-agent/src/backends/android/adb-output/network-state';
import { readBatteryCurrent } from '../../device-agent/src/backends/android/adb-output/power-supply';
import { integrateEnergy } from '../../device-agent/src/backends/android/energy';
import { createFakePhone, FIXTURES_DIR, phoneDir, readPhone, setFakePhoneCharging, unplugFakePhone, updateFakePhone, type CreatePhoneOptions } from './phone';

// The real fake adb, run as the agent runs adb (one process per command), checked against the
// farm's parsers of real adb output.

const ADB = path.join(__dirname, 'adb');
const BATTERY_FILES = ['/sys/class/power_supply/battery/current_now', '/sys/class/power_supply/battery/voltage_now'];
const SAMPLE_FILES = ['/proc/uptime', ...BATTERY_FILES];
const TRACE = { a: 250_000, b: 1_200 };
const VOLTAGE_UV = 3_870_000;

describe('the fake adb', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-adb-'));
  const adb = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(ADB, args, { env: { ...process.env, FARM_FAKE_ANDROID_DIR: dir } }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      });
    });
  const shell = async (serial: string, command: string): Promise<string> => {
    const { code, stdout, stderr } = await adb('-s', serial, 'shell', ...command.split(' '));
    if (code !== 0) throw new Error(`adb shell ${command}: exit ${code}: ${stderr}`);
    return stdout;
  };
  const phone = (serial: string, options: Partial<CreatePhoneOptions> = {}) =>
    createFakePhone(serial, { dir, memTotalKb: 11_720_000, battery: { currentUa: TRACE, voltageUv: VOLTAGE_UV }, ...options });
  const fixture = (name: string) => readFileSync(path.join(FIXTURES_DIR, name), 'utf8');

  beforeAll(() => {
    phone('PIXEL8', { bootTimeMs: Date.now() - 12_345_670 });
    phone('ONEPLUS', { getprop: 'oneplus-nord-n10-5g/getprop.txt', battery: { dumpsys: 'samsung-galaxy/dumpsys-battery.txt', charging: true, currentUa: TRACE, voltageUv: VOLTAGE_UV } });
    phone('LOCKED', { adbState: 'unauthorized' });
    phone('192.168.1.20:5555', { adbState: 'offline' });
    phone('GONE', { adbState: null });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the phones adb sees, with -l details for the usable ones', async () => {
    const { code, stdout } = await adb('devices', '-l');
    expect(code).toBe(0);
    expect(stdout.endsWith('\n\n')).toBe(true);
    expect(parseAdbDevices(stdout)).toEqual([
      { serial: '192.168.1.20:5555', state: 'offline', transportId: 4 },
      { serial: 'LOCKED', state: 'unauthorized', transportId: 3 },
      { serial: 'ONEPLUS', state: 'device', product: 'OnePlusN10TMO', model: 'BE2028', device: 'OnePlusN10TMO', transportId: 2 },
      { serial: 'PIXEL8', state: 'device', product: 'husky', model: 'Pixel_8_Pro', device: 'husky', transportId: 1 },
    ]);
    expect(parseAdbDevices((await adb('devices')).stdout).map((d) => `${d.serial} ${d.state}`)).toEqual([
      '192.168.1.20:5555 offline',
      'LOCKED unauthorized',
      'ONEPLUS device',
      'PIXEL8 device',
    ]);
  });

  it('answers getprop with the recorded output, as is', async () => {
    const text = await shell('PIXEL8', 'getprop');
    expect(text).toBe(fixture('google-pixel-8-pro/getprop.txt'));
    expect(deviceInfo(parseGetprop(text))).toMatchObject({ manufacturer: 'Google', model: 'Pixel 8 Pro', androidVersion: '16', soc: 'Tensor G3' });
  });

  it('answers dumpsys battery from the recorded output, changing only the fields the phone varies', async () => {
    expect(parseDumpsysBattery(await shell('PIXEL8', 'dumpsys battery'))).toEqual({
      levelPct: 19,
      temperatureC: 27.5,
      voltageMv: 3764,
      charging: false,
      chargingSource: null,
      status: 3,
    });
    updateFakePhone('PIXEL8', (p) => Object.assign(p.battery, { levelPct: 64, temperatureTenthsC: 412 }), dir);
    setFakePhoneCharging('PIXEL8', true, dir);
    const charging = await shell('PIXEL8', 'dumpsys battery');
    expect(parseDumpsysBattery(charging)).toEqual({ levelPct: 64, temperatureC: 41.2, voltageMv: 3764, charging: true, chargingSource: 'ac', status: 2 });
    const recorded = fixture('google-pixel-c/dumpsys-battery.txt').split('\n');
    const changed = charging.split('\n').filter((line, i) => line !== recorded[i]);
    expect(changed).toEqual(['  level: 64', '  temperature: 412']);
    // The Samsung output, charging as recorded: its vendor lines stay.
    expect(await shell('ONEPLUS', 'dumpsys battery')).toBe(fixture('samsung-galaxy/dumpsys-battery.txt'));
    setFakePhoneCharging('PIXEL8', false, dir);
  });

  it('answers /proc/meminfo with the kernel format of the phone RAM size', async () => {
    const text = await shell('PIXEL8', 'cat /proc/meminfo');
    expect(text).toBe('MemTotal:       11720000 kB\n');
    expect(parseMeminfoTotalMb(text)).toBe(11_445); // 11 720 000 kB in whole MiB
  });

  it('samples uptime, current and voltage at one rounded uptime, on a clock that advances with the wall clock', async () => {
    const sample = async () => {
      const before = Date.now();
      const lines = (await shell('PIXEL8', `cat ${SAMPLE_FILES.join(' ')}`)).split('\n');
      return { lines, ms: Date.now() - before };
    };
    const first = await sample();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await sample();
    for (const { lines } of [first, second]) {
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^\d+\.\d{2} \d+\.\d{2}$/);
      expect(lines[3]).toBe('');
      const uptimeS = Number(lines[0].split(' ')[0]);
      // a + b·t is a whole number of µA, but not always in floating point (250000 + 1200 · 12346.46 = 15065751.999999998).
      expect(Number(lines[1])).toBe(Math.round(TRACE.a + TRACE.b * uptimeS));
      expect(lines[2]).toBe(String(VOLTAGE_UV));
      expect(readBatteryCurrent({ currentNow: lines[1], voltageNow: lines[2] }, { sign: 'discharge-positive' }).voltageMv).toBe(3870);
    }
    const [t1, t2] = [first, second].map(({ lines }) => Number(lines[0].split(' ')[0]));
    expect(t1).toBeGreaterThan(12_345);
    expect(t2 - t1).toBeGreaterThanOrEqual(0.3);
    expect(t2 - t1).toBeLessThan(2);
    // One sample per process: it must stay well under the agent's 100 ms sampling period on a quiet machine.
    expect(Math.min(first.ms, second.ms)).toBeLessThan(500);
  });

  it('gives energy a test can compute by hand: the trace is linear, so trapezoids are exact', async () => {
    const samples = [];
    for (let i = 0; i < 3; i++) {
      const [uptime, currentNow, voltageNow] = (await shell('PIXEL8', `cat ${SAMPLE_FILES.join(' ')}`)).split('\n');
      const { currentMa, voltageMv } = readBatteryCurrent({ currentNow, voltageNow }, { sign: 'discharge-positive' });
      samples.push({ tMs: Number(uptime.split(' ')[0]) * 1000, currentMa, voltageMv });
    }
    const [t0, t1] = [samples[0].tMs / 1000, samples[2].tMs / 1000];
    // ∫ V·(a + b·t) dt over [t0, t1], µV·µA·s = 1e-12 J = 1e-9 mJ.
    const byHand = (VOLTAGE_UV * (TRACE.a * (t1 - t0) + (TRACE.b / 2) * (t1 * t1 - t0 * t0))) / 1e9;
    const [energy] = integrateEnergy(samples, [{ startMs: samples[0].tMs, endMs: samples[2].tMs }]);
    expect(energy.energyMj).toBeCloseTo(byHand, 6);
  });

  it('samples the wall clock in ns and the battery at that same instant, in one shell line', async () => {
    const bootTimeMs = readPhone('PIXEL8', dir)?.bootTimeMs ?? NaN;
    for (let i = 0; i < 2; i++) {
      const before = Date.now();
      const { code, stdout, stderr } = await adb('-s', 'PIXEL8', 'shell', 'date', '+%s%N', ';', 'cat', ...BATTERY_FILES);
      const after = Date.now();
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const [date, currentNow, voltageNow, end] = stdout.split('\n');
      expect(end).toBe('');
      expect(date).toMatch(/^\d{19}$/);
      const dateMs = Number(BigInt(date)) / 1e6;
      // The phone's clock is this host's: the date lies within the adb process's life.
      expect(dateMs).toBeGreaterThanOrEqual(before - 1);
      expect(dateMs).toBeLessThanOrEqual(after + 1);
      const uptimeS = (dateMs - bootTimeMs) / 1000;
      expect(Number(currentNow)).toBe(Math.round(TRACE.a + TRACE.b * uptimeS));
      expect(voltageNow).toBe(String(VOLTAGE_UV));
      expect(readBatteryCurrent({ currentNow, voltageNow }, { sign: 'discharge-positive' }).voltageMv).toBe(3870);
    }
    // Commands after `;` run after a failing one, and the line's exit code is the last one's.
    expect(await adb('-s', 'PIXEL8', 'shell', 'cat', '/sdcard/nope.json', ';', 'settings', 'get', 'global', 'airplane_mode_on')).toMatchObject({
      code: 0,
      stderr: 'cat: /sdcard/nope.json: No such file or directory\n',
    });
    expect((await adb('-s', 'GONE', 'shell', 'date', '+%s%N', ';', 'cat', ...BATTERY_FILES)).stderr).toBe("adb: device 'GONE' not found\n");
  });

  it('reverses ports, lists them as adbd does, removes them, and drops them when the phone is unplugged', async () => {
    phone('REVERSE');
    expect(await adb('-s', 'REVERSE', 'reverse', '--list')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await adb('-s', 'REVERSE', 'reverse', 'tcp:3200', 'tcp:3200')).toEqual({ code: 0, stdout: '3200\n', stderr: '' });
    expect(await adb('-s', 'REVERSE', 'reverse', 'tcp:3100', 'tcp:3100')).toEqual({ code: 0, stdout: '3100\n', stderr: '' });
    expect((await adb('-s', 'REVERSE', 'reverse', 'tcp:3200', 'tcp:3200')).code).toBe(0);
    expect(readPhone('REVERSE', dir)?.reversePorts).toEqual([3200, 3100]);
    expect((await adb('-s', 'REVERSE', 'reverse', '--list')).stdout).toBe('UsbFfs tcp:3200 tcp:3200\nUsbFfs tcp:3100 tcp:3100\n');

    expect(await adb('-s', 'REVERSE', 'reverse', '--remove', 'tcp:3200')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await adb('-s', 'REVERSE', 'reverse', '--remove', 'tcp:3200')).toEqual({ code: 1, stdout: '', stderr: "adb: error: listener 'tcp:3200' not found\n" });
    expect((await adb('-s', 'REVERSE', 'reverse', '--list')).stdout).toBe('UsbFfs tcp:3100 tcp:3100\n');
    // The fake phone is this host: a port can only be reversed onto itself.
    expect(await adb('-s', 'REVERSE', 'reverse', 'tcp:3100', 'tcp:3101')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'fake adb: unsupported command: -s REVERSE reverse tcp:3100 tcp:3101\n',
    });

    expect((await adb('-s', 'LOCKED', 'reverse', 'tcp:3100', 'tcp:3100')).stderr).toMatch(/^adb: device unauthorized\./);
    expect(await adb('-s', '192.168.1.20:5555', 'reverse', '--list')).toEqual({ code: 1, stdout: '', stderr: 'adb: device offline\n' });
    unplugFakePhone('REVERSE', dir);
    expect(readPhone('REVERSE', dir)?.reversePorts).toEqual([]);
    for (const args of [['tcp:3100', 'tcp:3100'], ['--remove', 'tcp:3100'], ['--list']]) {
      expect(await adb('-s', 'REVERSE', 'reverse', ...args)).toEqual({ code: 1, stdout: '', stderr: "adb: device 'REVERSE' not found\n" });
    }
  });

  it('reads and changes the screen, and reads airplane mode and the default network', async () => {
    const wakefulness = async () => /mWakefulness=(\w+)/.exec(await shell('PIXEL8', 'dumpsys power'))?.[1];
    updateFakePhone('PIXEL8', (p) => void (p.screen.on = false), dir);
    expect(await wakefulness()).toBe('Asleep');
    expect(await shell('PIXEL8', 'input keyevent KEYCODE_WAKEUP')).toBe('');
    expect(await wakefulness()).toBe('Awake');

    const network = async () =>
      parseNetworkState({ airplaneModeOn: await shell('PIXEL8', 'settings get global airplane_mode_on'), connectivity: await shell('PIXEL8', 'dumpsys connectivity') });
    expect(await network()).toBe('cellular');
    for (const [change, expected] of [
      [{ defaultNetwork: 'wifi' }, 'wifi'],
      [{ defaultNetwork: 'none' }, 'none'],
      [{ defaultNetwork: 'wifi', airplane: true }, 'airplane'],
    ] as const) {
      updateFakePhone('PIXEL8', (p) => void Object.assign(p.network, change), dir);
      expect(await network()).toBe(expected);
    }
    expect(await shell('PIXEL8', 'settings get global airplane_mode_on')).toBe('1\n');
  });

  it('reads the files of the shared storage', async () => {
    const folder = path.join(phoneDir('PIXEL8', dir), 'sdcard', 'Android', 'data', 'org.example.bench', 'files', 'farm');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'r.1.json'), '{"farmBench":1}\n');
    expect(await shell('PIXEL8', 'cat /sdcard/Android/data/org.example.bench/files/farm/r.1.json')).toBe('{"farmBench":1}\n');
    expect(await adb('-s', 'PIXEL8', 'shell', 'cat', '/sdcard/nope.json')).toEqual({ code: 1, stdout: '', stderr: 'cat: /sdcard/nope.json: No such file or directory\n' });
  });

  it('fails as real adb does for a phone it cannot use, and refuses what it does not know', async () => {
    expect(await adb('-s', 'NOPE', 'shell', 'getprop')).toEqual({ code: 1, stdout: '', stderr: "adb: device 'NOPE' not found\n" });
    expect(await adb('-s', 'GONE', 'shell', 'getprop')).toEqual({ code: 1, stdout: '', stderr: "adb: device 'GONE' not found\n" });
    expect(await adb('-s', '192.168.1.20:5555', 'shell', 'getprop')).toEqual({ code: 1, stdout: '', stderr: 'adb: device offline\n' });
    const unauthorized = await adb('-s', 'LOCKED', 'shell', 'getprop');
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/^adb: device unauthorized\.\nThis adb server's \$ADB_VENDOR_KEYS is not set\n/);
    expect(await adb('-s', 'PIXEL8', 'shell', 'ls', '/')).toEqual({ code: 2, stdout: '', stderr: 'fake adb: unsupported command: -s PIXEL8 shell ls /\n' });
    expect(await adb('install', 'bench.apk')).toEqual({ code: 2, stdout: '', stderr: 'fake adb: unsupported command: install bench.apk\n' });

    phone('UNPLUG');
    expect(parseAdbDevices((await adb('devices', '-l')).stdout).map((d) => d.serial)).toContain('UNPLUG');
    unplugFakePhone('UNPLUG', dir);
    expect(parseAdbDevices((await adb('devices', '-l')).stdout).map((d) => d.serial)).not.toContain('UNPLUG');
    expect((await adb('-s', 'UNPLUG', 'shell', 'dumpsys', 'battery')).stderr).toBe("adb: device 'UNPLUG' not found\n");
  });
});
