import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAdbDevices, type AdbDevice } from './adb-devices';
import { deviceInfo, parseGetprop, type AndroidDeviceInfo } from './getprop';
import { parseDumpsysBattery, type BatteryState } from './dumpsys-battery';
import { parsePowerSupplyUevent, readBatteryCurrent } from './power-supply';
import { parseNetworkState } from './network-state';

// Every fixture is a recorded output of a real phone (see ../fixtures/SOURCES.md); each expected
// value below was read off the fixture by hand.
const fixture = (path: string): string => readFileSync(join(__dirname, '..', 'fixtures', path), 'utf8');

describe('getprop of real phones', () => {
  const table: [string, AndroidDeviceInfo, number][] = [
    [
      'google-pixel-8-pro/getprop.txt',
      {
        manufacturer: 'Google',
        model: 'Pixel 8 Pro',
        androidVersion: '16',
        sdk: 36,
        soc: 'Tensor G3',
        abi: 'arm64-v8a',
        fingerprint: 'google/husky/husky:16/CP1A.260405.005/15001963:user/release-keys',
      },
      21,
    ],
    [
      'oneplus-nord-n10-5g/getprop.txt',
      {
        manufacturer: 'OnePlus',
        model: 'BE2028',
        androidVersion: '11',
        sdk: 30,
        soc: 'lito', // Android 11 has no ro.soc.model: ro.board.platform
        abi: 'arm64-v8a',
        fingerprint: 'OnePlus/OnePlusN10TMO/OnePlusN10TMO:11/RKQ1.201217.002/2307051826:user/release-keys',
      },
      20,
    ],
    [
      'infinix-note-12-x670/getprop.txt',
      {
        manufacturer: 'INFINIX',
        model: 'Infinix X670',
        androidVersion: '13',
        sdk: 33,
        soc: 'MT6781V/CDZAMB-H',
        abi: 'arm64-v8a',
        fingerprint: 'Infinix/X670-GL/Infinix-X670:13/TP1A.220624.014/240224V556:user/release-keys',
      },
      21,
    ],
  ];

  it.each(table)('%s', (path, expected, count) => {
    const props = parseGetprop(fixture(path));
    expect(props.size).toBe(count);
    expect(deviceInfo(props)).toEqual(expected);
  });

  it('keeps empty values, inner spaces and values spanning lines as published', () => {
    expect(parseGetprop(fixture('google-pixel-8-pro/getprop.txt')).get('ro.product.cpu.abilist32')).toBe('');
    const oneplus = parseGetprop(fixture('oneplus-nord-n10-5g/getprop.txt'));
    expect(oneplus.get('ro.build.description')).toBe('OnePlusN10TMO-user 11   release-keys');
    expect(oneplus.get('persist.sys.boot.reason.history')).toBe(
      'reboot,ota,1691858645\nreboot,unattended,ota_update,1691858601\nreboot,ota,1691857091',
    );
  });
});

describe('dumpsys battery of real phones', () => {
  const table: [string, BatteryState][] = [
    ['google-pixel-c/dumpsys-battery.txt', { levelPct: 19, temperatureC: 27.5, voltageMv: 3764, charging: true, chargingSource: 'ac', status: 2 }],
    // Full (status 5) on USB: charging by its powered flag. Samsung's extra lines are ignored.
    ['samsung-galaxy/dumpsys-battery.txt', { levelPct: 100, temperatureC: 30.9, voltageMv: 4312, charging: true, chargingSource: 'usb', status: 5 }],
    // A device that reports zero voltage and temperature: parsed as published, not corrected.
    ['unknown-device/dumpsys-battery.txt', { levelPct: 89, temperatureC: 0, voltageMv: 0, charging: true, chargingSource: 'ac', status: 2 }],
  ];

  it.each(table)('%s', (path, expected) => {
    expect(parseDumpsysBattery(fixture(path))).toEqual(expected);
  });
});

describe('power_supply uevent of a real phone (Xiaomi Mi 6, Qualcomm bms)', () => {
  const uevent = parsePowerSupplyUevent(fixture('xiaomi-mi-6/bms-uevent.txt'));
  const raw = { currentNow: uevent.get('POWER_SUPPLY_CURRENT_NOW') ?? '', voltageNow: uevent.get('POWER_SUPPLY_VOLTAGE_NOW') ?? '' };

  it('reads every line', () => {
    expect(uevent.size).toBe(24);
    expect(uevent.get('POWER_SUPPLY_NAME')).toBe('bms');
    expect(uevent.get('POWER_SUPPLY_CAPACITY')).toBe('70');
    expect(uevent.get('POWER_SUPPLY_BATTERY_TYPE')).toBe('c1_atl');
  });

  it('normalises µA and µV with the Qualcomm convention: negative while charging', () => {
    expect(readBatteryCurrent(raw, { sign: 'discharge-positive' })).toEqual({
      currentMa: -1202.147,
      voltageMv: 4137.44,
      sign: 'discharge-positive',
    });
  });

  it('will not guess the sign of a sample taken while charging', () => {
    expect(() => readBatteryCurrent(raw)).toThrow(/cannot infer the sign/);
  });
});

describe('adb devices of real hosts', () => {
  const table: [string, AdbDevice[]][] = [
    [
      'adb-devices/samsung-galaxy-s9.txt',
      [{ serial: '2285d50b40047ece', state: 'device', product: 'starlteks', model: 'SM_G960N', device: 'starlteks', transportId: 1 }],
    ],
    [
      'adb-devices/rk3288-leading-space.txt',
      [{ serial: 'GS101200400611', state: 'device', product: 'rk3288', model: 'rk3288', device: 'rk3288', transportId: 15 }],
    ],
    ['adb-devices/nvidia-shield-offline.txt', [{ serial: '192.168.1.217:5555', state: 'offline' }]],
    ['adb-devices/unauthorized.txt', [{ serial: 'X9LDU14B18003251', state: 'unauthorized' }]],
    ['adb-devices/no-permissions.txt', [{ serial: '????????????', state: 'no permissions' }]],
  ];

  it.each(table)('%s', (path, expected) => {
    expect(parseAdbDevices(fixture(path))).toEqual(expected);
  });
});

describe('dumpsys connectivity of a real phone (Android 13)', () => {
  const connectivity = fixture('network/dumpsys-connectivity-android-13.txt');

  it('refuses to guess when the active default network is not among the listed ones', () => {
    // Network 231 (the default, with a VPN app running) is past where the published copy ends.
    expect(() => parseNetworkState({ airplaneModeOn: '0', connectivity })).toThrow(/active default network 231 is not listed/);
  });

  it('reads the listed cellular network when it is the default', () => {
    const asDefault = connectivity.replace('Active default network: 231', 'Active default network: 225');
    expect(parseNetworkState({ airplaneModeOn: '0', connectivity: asDefault })).toBe('cellular');
  });

  it('says airplane when the setting is on, whatever connectivity says', () => {
    expect(parseNetworkState({ airplaneModeOn: '1\n', connectivity })).toBe('airplane');
  });
});
