import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceView, JobView, MeasurementView, Page } from '@farm/contracts';
import { ROOT } from '../../../scripts/lib/processes';
import { createFakePhone, phoneDir, unplugFakePhone, updateFakePhone } from '../../../tools/fake-android/phone';
import { startTestFarm, until, type TestFarm } from './support';

/**
 * The android backend end to end with no phone: the agent's adb is the project's fake adb and
 * its Appium automation the project's FarmTest driver, both answering from fake phones made of
 * recorded real outputs (tools/fake-android). Real API, agent, Appium server, Postgres and Redis.
 */
const COMPONENT = 'org.example.bench/.BenchmarkActivity';
// current_now = a + b·t µA (t the phone's uptime in s), voltage_now constant: linear, so the
// trapezoids the agent sums are exact and each phase's energy can be computed by hand.
const TRACE = { currentUa: { a: 350_000, b: 2_000 }, voltageUv: 3_900_000, levelPct: 80, temperatureTenthsC: 300 };

/** ∫ V·I dt over [startMs, endMs] of the uptime clock, in mJ, from the trace's formula. */
function expectedEnergyMj(startMs: number, endMs: number): number {
  const { a, b } = TRACE.currentUa;
  const s = startMs / 1000;
  const e = endMs / 1000;
  const microAmpSeconds = a * (e - s) + (b * (e * e - s * s)) / 2;
  // µA·s × V = µJ; / 1000 = mJ.
  return (microAmpSeconds * (TRACE.voltageUv / 1e6)) / 1000;
}

interface ResultFile {
  phases: { iteration: number; phase: string; startMs: number; endMs: number }[];
}

describe('the android backend through Appium with the FarmTest driver', () => {
  let farm: TestFarm;
  let dir: string;
  const serials = { discharging: 'FAKE0001', charging: 'FAKE0002', unauthorized: 'FAKE0003' };
  const devices = async (): Promise<Map<string, DeviceView>> => {
    const list = await farm.api.request<DeviceView[]>('GET', `/api/devices?backend=android&tag=${farm.tag}`);
    return new Map(list.body.map((d) => [d.serial, d]));
  };
  const deviceId = async (serial: string): Promise<string> => {
    const id = (await devices()).get(serial)?.id;
    if (!id) throw new Error(`${serial} is not registered`);
    return id;
  };
  const measurements = async (job: JobView, runId: string) =>
    (await farm.api.request<Page<MeasurementView>>('GET', `/api/jobs/${job.id}/measurements?runId=${runId}&limit=10000`)).body.items;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fake-android-'));
    const wifi = { defaultNetwork: 'wifi' as const };
    createFakePhone(serials.discharging, { dir, memTotalKb: 11_780_000, battery: { ...TRACE, charging: false }, network: wifi, app: { component: COMPONENT } });
    createFakePhone(serials.charging, {
      dir,
      getprop: 'oneplus-nord-n10-5g/getprop.txt',
      memTotalKb: 5_800_000,
      battery: { ...TRACE, charging: true },
      network: wifi,
      app: { component: COMPONENT },
    });
    createFakePhone(serials.unauthorized, { dir, adbState: 'unauthorized', memTotalKb: 3_900_000, battery: TRACE, network: wifi, app: { component: COMPONENT } });
    farm = await startTestFarm([]);
    await farm.stack.startAgent(
      farm.agentEnv('android', {
        BACKENDS: 'android',
        ADB_PATH: path.join(ROOT, 'tools/fake-android/adb'),
        FARM_FAKE_ANDROID_DIR: dir,
        ANDROID_RUNNER: 'apk',
        ANDROID_APK_COMPONENT: COMPONENT,
        ANDROID_AUTOMATION_NAME: 'FarmTest',
        ANDROID_TAGS: farm.tag,
        ANDROID_DISCOVERY_MS: '300',
        ANDROID_SAMPLE_MS: '50',
        ANDROID_HEALTH_TTL_MS: '0',
      }),
    );
    await until(async () => [...(await devices()).values()].filter((d) => d.state === 'available').length === 2, 60_000, 'the android agent');
  }, 90_000);
  afterAll(async () => {
    await farm.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the phones adb lists as ready and describes them from getprop, meminfo and dumpsys', async () => {
    const found = await devices();
    expect([...found.keys()].sort()).toEqual([serials.discharging, serials.charging]);
    expect(found.get(serials.discharging)).toMatchObject({
      manufacturer: 'Google',
      model: 'Pixel 8 Pro',
      osVersion: '16',
      ramMb: Math.floor(11_780_000 / 1024),
      properties: { sdk: 36 },
      charging: false,
    });
    expect(found.get(serials.charging)).toMatchObject({ model: 'BE2028', osVersion: '11', charging: true });
  });

  it('measures every phase on the phone, with its energy integrated from the battery trace', async () => {
    const job = await farm.api.submit({
      name: 'android-energy',
      models: ['mobilenet_v2'],
      scenarios: ['on_device', 'cloud'],
      devices: { ids: [await deviceId(serials.discharging)] },
      iterations: 3,
      warmup: 1,
    });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000 });
    expect(done.runs?.map((r) => [r.result, r.errorMessage])).toEqual([['passed', null], ['passed', null]]);
    for (const run of done.runs ?? []) {
      const file = path.join(phoneDir(serials.discharging, dir), 'sdcard/Android/data/org.example.bench/files/farm', `${run.id}.${run.attempt}.json`);
      const result = JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
      const rows = await measurements(done, run.id);
      expect(rows).toHaveLength(result.phases.length);
      for (const phase of result.phases) {
        const row = rows.find((r) => r.iteration === phase.iteration && r.phase === phase.phase);
        expect(row?.durationMs).toBeCloseTo(phase.endMs - phase.startMs, 6);
        expect(row?.energyMethod).toBe('battery_current_sampling');
        if (phase.phase.startsWith('server_')) {
          expect(row?.energyMj).toBeNull();
        } else {
          const expected = expectedEnergyMj(phase.startMs, phase.endMs);
          // current_now is printed in whole µA: a relative error below 1e-5 at these currents.
          expect(Math.abs((row?.energyMj ?? NaN) - expected)).toBeLessThanOrEqual(expected * 1e-5 + 1e-9);
        }
      }
      expect(run.details).toMatchObject({ network: 'wifi', energy: { method: 'battery_current_sampling', estimate: false } });
      // A trace: its two ends and at least one sample between (each sample is an adb call, which
      // a loaded host spaces out, so no more can be promised).
      expect((run.details?.['energy'] as { samples: number }).samples).toBeGreaterThanOrEqual(3);
    }
  });

  it('stores no energy for a phone that charges, and says why', async () => {
    const job = await farm.api.submit({
      name: 'android-charging',
      models: ['mobilenet_v2'],
      scenarios: ['on_device'],
      devices: { ids: [await deviceId(serials.charging)] },
      iterations: 2,
    });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000 });
    const run = done.runs?.[0];
    expect(run?.result).toBe('passed');
    const rows = await measurements(done, run?.id ?? '');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.energyMj === null && r.energyMethod === 'none')).toBe(true);
    expect(run?.details).toMatchObject({ energy: { method: 'none', reason: expect.stringMatching(/charging/) } });
  });

  it('ends the run of a phone unplugged mid-run as device_lost, and runs it again when the phone is back', async () => {
    const id = await deviceId(serials.discharging);
    const job = await farm.api.submit({ name: 'android-unplug', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { ids: [id] }, iterations: 30 });
    await until(async () => (await farm.api.job(job.id)).progress.running === 1, 30_000, 'the run under way');
    unplugFakePhone(serials.discharging, dir);
    await until(async () => (await devices()).get(serials.discharging)?.state === 'offline', 15_000, 'the phone offline');
    // The device goes offline first, then its attempt ends: wait for the run to be queued again.
    const waiting = await until(async () => {
      const run = (await farm.api.job(job.id)).runs?.[0];
      return run?.status === 'queued' && run;
    }, 15_000, 'the run queued again');
    expect(waiting).toMatchObject({ status: 'queued', attempt: 2, errorKind: 'device_lost' });

    updateFakePhone(serials.discharging, (phone) => void (phone.adbState = 'device'), dir);
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000 });
    expect(done.runs?.[0]).toMatchObject({ result: 'passed', attempt: 2, errorKind: null });
    expect((await devices()).get(serials.discharging)?.state).toBe('available');
  });
});

describe('the android backend running bench-web in Chrome on the phone', () => {
  let farm: TestFarm;
  let dir: string;
  const serial = 'FAKE0101';
  // A constant draw: every phase's energy is power × duration, whatever its place on the clock.
  const FLAT = { currentUa: { a: 420_000, b: 0 }, voltageUv: 3_850_000, levelPct: 80, temperatureTenthsC: 300 };
  const powerMw = (FLAT.currentUa.a / 1000) * (FLAT.voltageUv / 1000) / 1000;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fake-android-'));
    // Locked, as a phone left on a rack is: the run unlocks it.
    createFakePhone(serial, { dir, memTotalKb: 7_900_000, battery: { ...FLAT, charging: false }, network: { defaultNetwork: 'wifi' }, screen: { locked: true } });
    farm = await startTestFarm([], {}, { inferenceServer: true });
    await farm.stack.startAgent(
      farm.agentEnv('android-chrome', {
        BACKENDS: 'android',
        ADB_PATH: path.join(ROOT, 'tools/fake-android/adb'),
        FARM_FAKE_ANDROID_DIR: dir,
        ANDROID_AUTOMATION_NAME: 'FarmTest',
        ANDROID_TAGS: farm.tag,
        ANDROID_SAMPLE_MS: '50',
      }),
    );
    await until(async () => {
      const list = await farm.api.request<DeviceView[]>('GET', `/api/devices?backend=android&tag=${farm.tag}&state=available`);
      return list.body.length === 1;
    }, 60_000, 'the android agent');
  }, 90_000);
  afterAll(async () => {
    await farm.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the real page on the phone through adb reverse, with each phase charged power × duration', async () => {
    const job = await farm.api.submit({ name: 'android-chrome', models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 2 });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 120_000 });
    expect(done.runs?.map((r) => [r.result, r.errorMessage])).toEqual([
      ['passed', null],
      ['passed', null],
    ]);
    for (const run of done.runs ?? []) {
      expect(run.details).toMatchObject({ runner: 'chrome', network: 'wifi', energy: { method: 'battery_current_sampling' }, runtime: { tfjsBackend: run.scenario === 'on_device' ? 'wasm' : 'none' } });
      const rows = (await farm.api.request<Page<MeasurementView>>('GET', `/api/jobs/${done.id}/measurements?runId=${run.id}&limit=10000`)).body.items;
      expect(rows.length).toBe(run.scenario === 'on_device' ? 1 + 2 * 4 : 2 * 8);
      for (const row of rows) {
        if (row.phase.startsWith('server_')) expect(row.energyMj).toBeNull();
        else expect(row.energyMj).toBeCloseTo(powerMw * row.durationMs / 1000, 6);
      }
    }
    // The phone reached bench-web, the inference server and the API on this host's loopback.
    const phone = JSON.parse(readFileSync(path.join(phoneDir(serial, dir), 'phone.json'), 'utf8')) as { reversePorts: number[]; screen: { locked: boolean } };
    expect(phone.screen.locked).toBe(false);
    const ports = [farm.stack.apiUrl, farm.stack.inferenceUrl ?? ''].map((u) => Number(new URL(u).port));
    expect(phone.reversePorts).toEqual(expect.arrayContaining(ports));
    expect(phone.reversePorts.length).toBe(3);
  });
});
