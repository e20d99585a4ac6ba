import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createFakePhone, updateFakePhone } from '../../../../tools/fake-android/phone';
import { BenchWebHost } from '../bench-web-page';
import { Adb } from './adb';
import { AndroidBackend } from './android.backend';

/** Discovery through the project's fake adb (a real process answering from recorded outputs). */
describe('AndroidBackend discovery', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-android-'));
  const battery = { currentUa: { a: 300_000, b: 0 }, voltageUv: 3_900_000, levelPct: 70, temperatureTenthsC: 300 };
  let backend: AndroidBackend;

  beforeAll(() => {
    createFakePhone('GOOD0001', { dir, memTotalKb: 8_000_000, battery });
    createFakePhone('AUTH0001', { dir, adbState: 'unauthorized', memTotalKb: 8_000_000, battery });
    // A phone whose getprop is not getprop output at all: it cannot be described.
    createFakePhone('BAD00001', { dir, getprop: 'google-pixel-c/dumpsys-battery.txt', memTotalKb: 8_000_000, battery });
    backend = new AndroidBackend({
      adb: new Adb(path.resolve(__dirname, '../../../../tools/fake-android/adb'), 10_000, { FARM_FAKE_ANDROID_DIR: dir }),
      runner: 'chrome',
      benchWeb: new BenchWebHost({ url: 'http://127.0.0.1:1/', log: pino({ level: 'silent' }) }),
      appiumUrl: 'http://127.0.0.1:1',
      automationName: 'FarmTest',
      apiUrl: 'http://127.0.0.1:3000',
      inferenceUrl: 'http://127.0.0.1:3100',
      minBatteryPct: 20,
      maxTemperatureC: 38,
      cooldownMs: 0,
      sampleIntervalMs: 50,
      currentUnit: 'uA',
      currentSign: 'infer',
      discoveryIntervalMs: 60_000,
      healthTtlMs: 0,
      tags: ['rack-1'],
    });
  });
  afterAll(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the ready phones it can describe, and leaves unauthorised and unreadable ones out', async () => {
    const found = await backend.discover();
    expect(found.map((d) => d.serial)).toEqual(['GOOD0001']);
    expect(found[0]).toMatchObject({ backend: 'android', manufacturer: 'Google', model: 'Pixel 8 Pro', osVersion: '16', tags: ['rack-1'] });
    expect(found[0]?.health).toEqual({ batteryPct: 70, temperatureC: 30, charging: false });
  });

  it('asks for a new registration when a phone is authorised, but not again for an unreadable one', async () => {
    let changes = 0;
    backend.onDevicesChanged = () => changes++;
    const watch = (backend as unknown as { watch(): Promise<void> }).watch.bind(backend);
    await watch();
    expect(changes).toBe(0);
    updateFakePhone('AUTH0001', (phone) => void (phone.adbState = 'device'), dir);
    await watch();
    expect(changes).toBe(1);
    expect((await backend.discover()).map((d) => d.serial).sort()).toEqual(['AUTH0001', 'GOOD0001']);
    await watch();
    expect(changes).toBe(1);
  });
});
