import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { AppiumServer } from '../../device-agent/src/backends/browser/appium-server';
import { createFakePhone, readPhone, unplugFakePhone, updateFakePhone, type RecordedRun } from '../fake-android/phone';
import type { ResultPhase } from '../fake-android/app';

// A real Appium 3 server with the farmtest driver, on fake phones: the benchmark "app" replays
// the recorded run in real time on the phone's uptime clock and writes its result file.

const COMPONENT = 'org.example.bench/.BenchmarkActivity';
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const recorded = JSON.parse(readFileSync(path.join(__dirname, '..', 'fake-android', 'recorded-run.mobilenet_v2.json'), 'utf8')) as RecordedRun;

interface W3cAnswer {
  value: { error?: string; message?: string; sessionId?: string } & Record<string, unknown>;
}

describe('the farmtest Appium driver', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-android-'));
  const previousDir = process.env['FARM_FAKE_ANDROID_DIR'];
  let appium: AppiumServer;
  let url: string;

  const call = async (method: 'POST' | 'DELETE', route: string, body?: object): Promise<{ status: number; value: W3cAnswer['value'] }> => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body && { body: JSON.stringify(body) }),
    });
    return { status: response.status, value: ((await response.json()) as W3cAnswer).value };
  };
  const newSession = (udid: string) =>
    call('POST', '/session', { capabilities: { alwaysMatch: { platformName: 'Android', 'appium:automationName': 'FarmTest', 'appium:udid': udid } } });
  const phone = (serial: string, app: { timeScale?: number; error?: string | null } = {}) =>
    createFakePhone(serial, { dir, memTotalKb: 11_720_000, battery: { currentUa: { a: 300_000, b: 100 }, voltageUv: 3_850_000 }, app });
  const uptimeMs = (serial: string): number => Date.now() - (readPhone(serial, dir)?.bootTimeMs ?? NaN);
  const extras = (runId: string, scenario: string, iterations: number, warmup: number) => [
    ['s', 'farm.run_id', runId],
    ['i', 'farm.attempt', '1'],
    ['s', 'farm.model', 'mobilenet_v2'],
    ['s', 'farm.model_url', 'http://127.0.0.1:3000/api/models/mobilenet_v2'],
    ['s', 'farm.scenario', scenario],
    ['i', 'farm.iterations', String(iterations)],
    ['i', 'farm.warmup', String(warmup)],
    ['s', 'farm.server_url', 'http://127.0.0.1:3100'],
    ['s', 'farm.result_file', `${runId}.1.json`],
  ];
  const resultPath = (runId: string) => `/sdcard/Android/data/org.example.bench/files/farm/${runId}.1.json`;
  /** Pulls the result file until it is there, as the agent polls for it. */
  const pullResult = async (session: string, runId: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const pulled = await call('POST', `/session/${session}/appium/device/pull_file`, { path: resultPath(runId) });
      if (pulled.status === 200) return JSON.parse(Buffer.from(pulled.value as unknown as string, 'base64').toString('utf8')) as Record<string, unknown>;
      if (Date.now() > until) throw new Error(`no result after ${timeoutMs} ms: ${pulled.value.message ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    process.env['FARM_FAKE_ANDROID_DIR'] = dir;
    appium = new AppiumServer({ log: quiet });
    url = await appium.ensureRunning();
  });

  afterAll(async () => {
    await appium?.stop();
    if (previousDir === undefined) delete process.env['FARM_FAKE_ANDROID_DIR'];
    else process.env['FARM_FAKE_ANDROID_DIR'] = previousDir;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the benchmark app in real time on the uptime clock and writes the contract result', async () => {
    phone('FAKE0001');
    const session = await newSession('FAKE0001');
    expect(session.status).toBe(200);
    const id = String(session.value.sessionId);

    const startedAt = uptimeMs('FAKE0001');
    const started = await call('POST', `/session/${id}/execute/sync`, {
      script: 'mobile: startActivity',
      args: [{ component: COMPONENT, extras: extras('run-1', 'on_device', 4, 2) }],
    });
    expect(started).toEqual({ status: 200, value: `Starting: Intent { cmp=${COMPONENT} (has extras) }` });
    const missing = await call('POST', `/session/${id}/appium/device/pull_file`, { path: resultPath('run-1') });
    expect(missing.status).toBe(500);
    expect(missing.value.message).toContain(`adb: error: failed to stat remote object '${resultPath('run-1')}': No such file or directory`);

    const result = await pullResult(id, 'run-1', 10_000);
    const pulledAt = uptimeMs('FAKE0001');
    expect(result).toMatchObject({ farmBench: 1, runId: 'run-1', attempt: 1, model: 'mobilenet_v2', scenario: 'on_device', error: null, top1: recorded.top1.on_device });
    const phases = result['phases'] as ResultPhase[];
    // Iteration 0 loads the model; 2 warm-up and 4 measured iterations of four phases each.
    expect(phases).toHaveLength(1 + 6 * 4);
    expect(phases.filter((p) => p.phase === 'total').map((p) => [p.iteration, p.warmup])).toEqual([
      [1, true],
      [2, true],
      [3, false],
      [4, false],
      [5, false],
      [6, false],
    ]);
    // Real time on the phone's clock: the phases lie between the start and the pull, and last
    // what the recorded run's did (warm-ups replay recorded warm-ups, measured ones measured ones).
    const recordedMs = (iteration: number, phase: string) =>
      recorded.scenarios.on_device.find((r) => r.iteration === iteration && r.phase === phase)?.durationMs ?? NaN;
    expect(phases[0].startMs).toBeGreaterThanOrEqual(startedAt - 10);
    expect(phases.at(-1)?.endMs ?? NaN).toBeLessThanOrEqual(pulledAt + 10);
    expect(phases[0].endMs - phases[0].startMs).toBeCloseTo(recordedMs(0, 'model_load'), 6);
    const inference = (i: number) => phases.find((p) => p.iteration === i && p.phase === 'inference');
    expect((inference(2)?.endMs ?? NaN) - (inference(2)?.startMs ?? NaN)).toBeCloseTo(recordedMs(2, 'inference'), 6);
    expect((inference(3)?.endMs ?? NaN) - (inference(3)?.startMs ?? NaN)).toBeCloseTo(recordedMs(recorded.warmup + 1, 'inference'), 6);
    for (const p of phases) expect(p.endMs).toBeGreaterThanOrEqual(p.startMs);

    // What the app wrote, adb reads too.
    const adb = path.join(__dirname, '..', 'fake-android', 'adb');
    const { stdout } = await promisify(execFile)(adb, ['-s', 'FAKE0001', 'shell', 'cat', resultPath('run-1')], { env: { ...process.env, FARM_FAKE_ANDROID_DIR: dir } });
    expect(JSON.parse(stdout)).toEqual(result);
    expect(await call('DELETE', `/session/${id}`)).toEqual({ status: 200, value: null });
  });

  it('lays out the cloud phases with the server parts inside server, and writes the error the phone is set to give', async () => {
    phone('FAKE0002', { timeScale: 0.5, error: 'model file is corrupt' });
    const id = String((await newSession('FAKE0002')).value.sessionId);
    await call('POST', `/session/${id}/execute/sync`, { script: 'mobile: startActivity', args: [{ component: COMPONENT, wait: true, extras: extras('run-2', 'cloud', 3, 1) }] });
    const result = await pullResult(id, 'run-2', 10_000);
    expect(result).toMatchObject({ scenario: 'cloud', error: 'model file is corrupt', top1: null });
    const phases = result['phases'] as ResultPhase[];
    // A failing app stops after its first iteration: the phases it measured stay.
    expect(phases.map((p) => p.phase)).toEqual(['preprocess', 'upload', 'server', 'server_preprocess', 'server_inference', 'server_postprocess', 'download', 'total']);
    const get = (name: string) => phases.find((p) => p.phase === name) as ResultPhase;
    for (const part of ['server_preprocess', 'server_inference', 'server_postprocess']) {
      expect(get(part).startMs).toBeGreaterThanOrEqual(get('server').startMs);
      expect(get(part).endMs).toBeLessThanOrEqual(get('server').endMs);
    }
    const recordedUpload = recorded.scenarios.cloud.find((r) => r.iteration === 1 && r.phase === 'upload')?.durationMs ?? NaN;
    expect(get('upload').endMs - get('upload').startMs).toBeCloseTo(recordedUpload * 0.5, 6);
    await call('DELETE', `/session/${id}`);
  });

  it('reports and changes the lock state, and fails as UiAutomator2 does once the phone is unplugged', async () => {
    phone('FAKE0003');
    updateFakePhone('FAKE0003', (p) => void Object.assign(p.screen, { on: false, locked: true }), dir);
    const id = String((await newSession('FAKE0003')).value.sessionId);
    expect(await call('POST', `/session/${id}/appium/device/is_locked`)).toEqual({ status: 200, value: true });
    expect(await call('POST', `/session/${id}/appium/device/unlock`)).toEqual({ status: 200, value: null });
    expect(await call('POST', `/session/${id}/appium/device/is_locked`)).toEqual({ status: 200, value: false });
    expect(readPhone('FAKE0003', dir)?.screen).toEqual({ on: true, locked: false });

    const other = await call('POST', `/session/${id}/execute/sync`, { script: 'mobile: startActivity', args: [{ component: 'org.other/.Main', extras: [] }] });
    expect(other.value).toContain('Error: Activity class {org.other/org.other.Main} does not exist.');

    unplugFakePhone('FAKE0003', dir);
    const gone = await call('POST', `/session/${id}/appium/device/is_locked`);
    expect(gone.status).toBe(500);
    expect(gone.value).toMatchObject({
      error: 'unknown error',
      message: expect.stringContaining("Error executing adbExec. Original error: 'Command 'adb -P 5037 -s FAKE0003 shell dumpsys window' exited with code 1'; Command output: adb: device 'FAKE0003' not found"),
    });
    await call('DELETE', `/session/${id}`);
  });

  it('refuses a session for an absent or unauthorized phone with the error UiAutomator2 gives', async () => {
    phone('FAKE0004');
    createFakePhone('FAKE0005', { dir, adbState: 'unauthorized', memTotalKb: 1, battery: { currentUa: { a: 0, b: 0 }, voltageUv: 1 } });
    for (const udid of ['NOPE', 'FAKE0005']) {
      const refused = await newSession(udid);
      expect(refused.status).toBe(500);
      // logger.errorAndThrow in UiAutomator2 throws a plain Error: Appium answers it as an unknown error.
      expect(refused.value).toMatchObject({ error: 'unknown error', message: expect.stringContaining(`Device ${udid} was not in the list of connected devices`) });
    }
  });
});
