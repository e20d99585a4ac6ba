import { parseAdbDevices } from './adb-devices';
import { deviceInfo, parseGetprop } from './getprop';
import { parseDumpsysBattery } from './dumpsys-battery';
import { parseMeminfoTotalMb } from './meminfo';
import { parsePowerSupplyUevent, readBatteryCurrent } from './power-supply';
import { parseNetworkState } from './network-state';

// Malformed inputs: each parser names what is wrong instead of returning a half-read value.

describe('parseAdbDevices rejects', () => {
  it.each([
    ['adb printing an error', 'error: no devices/emulators found\n', /no "List of devices attached" header/],
    ['an error before the header', 'adb server version (41) doesn\'t match this client (39); killing...\nList of devices attached\n', /unexpected line before the header/],
    ['a serial without a state', 'List of devices attached\nR58M12ABCDE\n', /has a serial but no state/],
    ['a non-numeric transport id', 'List of devices attached\nR58M device transport_id:x\n', /transport_id "x" is not a number/],
  ])('%s', (_case, text, message) => {
    expect(() => parseAdbDevices(text)).toThrow(message);
  });

  it('accepts daemon start-up lines and an empty list', () => {
    expect(parseAdbDevices('* daemon not running; starting now at tcp:5037\n* daemon started successfully\nList of devices attached\n\n')).toEqual([]);
  });
});

describe('parseGetprop and deviceInfo reject', () => {
  it.each([
    ['a line that is not a property', '[ro.a]: [1]\nro.b=2\n', /line 2 is not "\[key\]: \[value\]"/],
    ['a value never closed', '[ro.a]: [1\n', /value of "ro.a" is not closed at end of output/],
    ['a property starting inside an open value', '[ro.a]: [x\n[ro.b]: [y]\n', /value of "ro.a" is not closed before line 2/],
    ['empty output', '\n', /no properties/],
  ])('%s', (_case, text, message) => {
    expect(() => parseGetprop(text)).toThrow(message);
  });

  it('keeps a "]" inside a value', () => {
    expect(parseGetprop('[ro.a]: [x]y]\n').get('ro.a')).toBe('x]y');
  });

  const complete = new Map([
    ['ro.product.manufacturer', 'Google'],
    ['ro.product.model', 'Pixel 8 Pro'],
    ['ro.build.version.release', '16'],
    ['ro.build.version.sdk', '36'],
    ['ro.product.cpu.abi', 'arm64-v8a'],
    ['ro.build.fingerprint', 'google/husky/husky:16/CP1A.260405.005/15001963:user/release-keys'],
    ['ro.hardware', 'husky'],
  ]);
  const without = (key: string): Map<string, string> => new Map([...complete].filter(([k]) => k !== key));

  it.each(['ro.product.manufacturer', 'ro.product.model', 'ro.build.version.release', 'ro.build.version.sdk', 'ro.product.cpu.abi', 'ro.build.fingerprint'])(
    'a missing %s, by name',
    (key) => {
      expect(() => deviceInfo(without(key))).toThrow(`required property ${key} is missing or empty`);
    },
  );

  it('an empty required value, a non-numeric sdk and no SoC property', () => {
    expect(() => deviceInfo(new Map([...complete, ['ro.product.model', '']]))).toThrow(/ro.product.model is missing or empty/);
    expect(() => deviceInfo(new Map([...complete, ['ro.build.version.sdk', 'S']]))).toThrow(/sdk is not a number: "S"/);
    expect(() => deviceInfo(without('ro.hardware'))).toThrow(/no SoC property; looked for ro.soc.model, ro.board.platform, ro.hardware/);
  });

  it('falls back from ro.soc.model to ro.board.platform to ro.hardware', () => {
    expect(deviceInfo(complete).soc).toBe('husky');
    expect(deviceInfo(new Map([...complete, ['ro.board.platform', 'zuma']])).soc).toBe('zuma');
    expect(deviceInfo(new Map([...complete, ['ro.board.platform', 'zuma'], ['ro.soc.model', 'Tensor G3']])).soc).toBe('Tensor G3');
  });
});

describe('parseDumpsysBattery rejects', () => {
  const head = 'Current Battery Service state:\n';
  it.each([
    ['output of another service', 'Battery service not found\n', /no "Current Battery Service state:" header/],
    ['a missing level', `${head}  status: 2\n  voltage: 4000\n  temperature: 250\n`, /no "level" field/],
    ['a non-integer temperature', `${head}  status: 2\n  level: 50\n  voltage: 4000\n  temperature: warm\n`, /"temperature" is not an integer: "warm"/],
    ['a zero scale', `${head}  status: 3\n  level: 50\n  scale: 0\n  voltage: 4000\n  temperature: 250\n`, /"scale" must be positive/],
    ['a powered flag that is not a boolean', `${head}  AC powered: yes\n  status: 3\n  level: 50\n  voltage: 4000\n  temperature: 250\n`, /"AC powered" is not true\/false/],
  ])('%s', (_case, text, message) => {
    expect(() => parseDumpsysBattery(text)).toThrow(message);
  });
});

describe('parseMeminfoTotalMb', () => {
  it.each([
    ['no total line', 'MemFree: 1000 kB\n', /no "MemTotal: <n> kB" or "Total RAM: <n>K" line/],
    ['a zero total', 'MemTotal:        0 kB\n', /not plausible/],
  ])('rejects %s', (_case, text, message) => {
    expect(() => parseMeminfoTotalMb(text)).toThrow(message);
  });
});

describe('parsePowerSupplyUevent and readBatteryCurrent reject', () => {
  it.each([
    ['a line that is not KEY=value', 'POWER_SUPPLY_NAME=battery\nstatus: Charging\n', /line 2 is not KEY=value/],
    ['an empty file', '\n', /no KEY=value lines/],
    ['a uevent of another class', 'DEVTYPE=usb_device\nPRODUCT=18d1/4ee7/440\n', /no POWER_SUPPLY_\* key/],
  ])('%s', (_case, text, message) => {
    expect(() => parsePowerSupplyUevent(text)).toThrow(message);
  });

  it.each([
    [{ currentNow: '12.5', voltageNow: '4000000' }, { sign: 'discharge-positive' as const }, /current_now is not an integer: "12.5"/],
    [{ currentNow: '-500', voltageNow: '' }, { sign: 'discharge-positive' as const }, /voltage_now is not an integer/],
    [{ currentNow: '-500', voltageNow: '0' }, { sign: 'discharge-positive' as const }, /voltage_now must be positive/],
    [{ currentNow: '-500', voltageNow: '4000000' }, { discharging: false }, /cannot infer the sign/],
  ])('raw %j with %j', (raw, options, message) => {
    expect(() => readBatteryCurrent(raw, options)).toThrow(message);
  });

  it('infers the sign from a discharging sample, and honours mA and mV when told', () => {
    expect(readBatteryCurrent({ currentNow: '-412000', voltageNow: '3850000' }, { discharging: true })).toEqual({
      currentMa: 412,
      voltageMv: 3850,
      sign: 'discharge-negative',
    });
    expect(readBatteryCurrent({ currentNow: '620', voltageNow: '3958' }, { currentUnit: 'mA', sign: 'discharge-negative' })).toEqual({
      currentMa: -620,
      voltageMv: 3958,
      sign: 'discharge-negative',
    });
  });
});

describe('parseNetworkState rejects', () => {
  it.each([
    ['an airplane setting that is not 0 or 1', { airplaneModeOn: 'null' }, /airplane_mode_on must be "0" or "1", got "null"/],
    ['no connectivity dump with airplane mode off', { airplaneModeOn: '0' }, /dumpsys connectivity output is needed/],
    ['a dump without the default network line', { airplaneModeOn: '0', connectivity: 'Current Networks:\n' }, /no "Active default network:" line/],
    [
      'a default network of unknown transport',
      { airplaneModeOn: '0', connectivity: 'Active default network: 7\n  NetworkAgentInfo{network{7}  ni{VPN[] CONNECTED} [ Transports: VPN ]}\n' },
      /network 7 has no known transport \(type VPN, transports VPN\)/,
    ],
  ])('%s', (_case, input, message) => {
    expect(() => parseNetworkState(input)).toThrow(message);
  });

  it('says none when there is no default network', () => {
    expect(parseNetworkState({ airplaneModeOn: '0', connectivity: 'Active default network: none\n' })).toBe('none');
  });
});
