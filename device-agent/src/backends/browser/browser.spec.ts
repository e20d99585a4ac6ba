import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUNDLED_MODELS, MeasurementSchema, RunDetailsSchema, SCENARIOS, type BundledModel, type Measurement, type RunAssignment, type RunDetails, type Scenario } from '@farm/contracts';
import { startInferenceServer, type InferenceServer } from '../../../../apps/inference-server/src';
import { ITERATION_PHASES, LEAF_PHASES, PHASE_SUM_TOLERANCE_MS } from '@farm/contracts';
import { RunError, type RunContext } from '../backend';
import { BrowserBackend, INSTALL_HINT, type RunTimings } from './browser.backend';
import type { CheckedBenchResult } from './results';

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const CHROMEDRIVER = '/usr/bin/chromedriver';
const WARMUP = 1;
const ITERATIONS = 3;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** Nothing listens on the discard port: bundled models only here, so no one asks the API. */
const NO_API = 'http://127.0.0.1:9';

interface Collected {
  rows: Measurement[];
  statuses: string[];
  details: RunDetails;
  controller: AbortController;
  context: RunContext;
}

function fakeContext(partial: Partial<RunAssignment>): Collected {
  const controller = new AbortController();
  const rows: Measurement[] = [];
  const statuses: string[] = [];
  const details: RunDetails = {};
  const assignment: RunAssignment = {
    runId: randomUUID(),
    jobId: randomUUID(),
    attempt: 1,
    deviceId: randomUUID(),
    model: 'mobilenet_v2',
    scenario: 'on_device',
    iterations: ITERATIONS,
    warmup: WARMUP,
    network: 'lan',
    deadlineAt: new Date(Date.now() + 3_600_000).toISOString(),
    ...partial,
  };
  const context: RunContext = {
    assignment,
    signal: controller.signal,
    checkpoint: () => {
      if (controller.signal.aborted) throw controller.signal.reason as Error;
    },
    status: (s) => void statuses.push(s),
    record: (m) => void rows.push(MeasurementSchema.parse(m)),
    describe: (d) => void Object.assign(details, RunDetailsSchema.parse(d)),
  };
  return { rows, statuses, details, controller, context };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const phaseMedian = (rows: Measurement[], phase: string): number => median(rows.filter((r) => r.phase === phase && !r.warmup).map((r) => r.durationMs));

describe('BrowserBackend (headless Chromium through Appium)', () => {
  let inference: InferenceServer & { url: string };
  let backend: BrowserBackend;
  let serial: string;
  const results = new Map<string, { rows: Measurement[]; statuses: string[]; details: RunDetails; result: CheckedBenchResult; timings: RunTimings }>();
  const lastResult = new Map<string, { result: CheckedBenchResult; timings: RunTimings }>();

  beforeAll(async () => {
    // The inference server loads its models while Appium and bench-web start.
    const port = await freePort();
    const starting = startInferenceServer(
      { port, host: '127.0.0.1', models: [...BUNDLED_MODELS], concurrency: 1, queue: 8, maxBytes: 5 * 1024 * 1024, apiUrl: NO_API, modelFetchTimeoutMs: 5000 },
      { logger: quiet },
    );
    backend = new BrowserBackend({
      agentName: 'test-agent',
      slots: 1,
      inferenceUrl: `http://127.0.0.1:${port}`,
      apiUrl: NO_API,
      chromiumPath: CHROMIUM,
      chromedriverPath: CHROMEDRIVER,
      pollMs: 250,
      onBenchResult: (s, result, timings) => lastResult.set(s, { result, timings }),
    });
    const [devices, server] = await Promise.all([backend.discover(), starting]);
    inference = server;
    serial = devices[0].serial;
  });

  afterAll(async () => {
    await backend?.close();
    await inference?.stop();
  });

  it('discovers one device per slot, described by the host and the browser', async () => {
    const devices = await backend.discover();
    expect(devices).toHaveLength(1);
    const d = devices[0];
    expect(d).toMatchObject({ serial: 'test-agent-chromium-1', backend: 'browser', health: { batteryPct: null, temperatureC: null, charging: null } });
    expect(d.model).toMatch(/^Chromium \d+\.\d+\.\d+\.\d+ \(headless\)$/);
    expect(d.osVersion).toMatch(/^\d+(\.\d+)*$/);
    expect(d.ramMb).toBeGreaterThan(0);
    expect(d.properties).toMatchObject({ browserVersion: expect.stringMatching(/^\d+\./), chromedriverVersion: expect.stringMatching(/^\d+\./), headless: true });
    expect(d.properties.cores).toBeGreaterThan(0);
    await expect(backend.health(d.serial)).resolves.toEqual({ batteryPct: null, temperatureC: null, charging: null });
    await expect(backend.health('nope')).rejects.toMatchObject({ kind: 'device_lost' });
  });

  describe.each(BUNDLED_MODELS.flatMap((m) => SCENARIOS.map((s) => [m, s] as [BundledModel, Scenario])))('%s %s', (model, scenario) => {
    const key = `${model}/${scenario}`;
    const got = (): { rows: Measurement[]; statuses: string[]; details: RunDetails; result: CheckedBenchResult } => {
      const r = results.get(key);
      if (!r) throw new Error(`the ${key} run did not finish`);
      return r;
    };

    beforeAll(async () => {
      const c = fakeContext({ model, scenario });
      await backend.run(serial, c.context);
      const last = lastResult.get(serial);
      if (!last) throw new Error('no result reported');
      results.set(key, { rows: c.rows, statuses: c.statuses, details: c.details, ...last });
      lastResult.delete(serial);
    });

    it('records every phase of the scenario for every iteration, energy none', () => {
      const { rows, statuses, result } = got();
      expect(statuses).toEqual(['preparing', 'running']);
      const total = WARMUP + ITERATIONS;
      for (const phase of ITERATION_PHASES[scenario]) {
        const its = rows.filter((r) => r.phase === phase).map((r) => r.iteration);
        expect(its).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      }
      const loads = rows.filter((r) => r.phase === 'model_load');
      expect(loads).toEqual(scenario === 'on_device' ? [expect.objectContaining({ iteration: 0, warmup: false })] : []);
      expect(rows.filter((r) => r.warmup).every((r) => r.iteration <= WARMUP)).toBe(true);
      expect(rows.every((r) => r.energyMethod === 'none' && r.energyMj === null)).toBe(true);
      // Sub-millisecond resolution: a page that is cross-origin isolated steps by 5 µs.
      expect(result.crossOriginIsolated).toBe(true);
      expect(rows.some((r) => !Number.isInteger(r.durationMs * 10))).toBe(true);
      if (scenario === 'on_device') expect(result.backend).toBe('wasm');
      expect(got().details).toMatchObject({
        runtime: { tfjs: '4.22.0', crossOriginIsolated: true, browserVersion: expect.stringMatching(/^\d+\./) },
        top1: expect.objectContaining({ 'gradient.jpg': expect.objectContaining({ consistent: true }) }),
      });
      if (scenario === 'on_device') expect(result.wasm).toEqual({ simd: true, threads: false });
    });

    it(`adds the phases of each iteration up to its total within ${PHASE_SUM_TOLERANCE_MS} ms`, () => {
      const { rows } = got();
      for (let i = 1; i <= WARMUP + ITERATIONS; i++) {
        const of = rows.filter((r) => r.iteration === i);
        const sum = of.filter((r) => LEAF_PHASES[scenario].includes(r.phase)).reduce((a, r) => a + r.durationMs, 0);
        const total = of.find((r) => r.phase === 'total')?.durationMs ?? NaN;
        expect(Math.abs(sum - total)).toBeLessThanOrEqual(PHASE_SUM_TOLERANCE_MS);
      }
      if (scenario === 'cloud') {
        for (let i = 1; i <= WARMUP + ITERATIONS; i++) {
          const of = rows.filter((r) => r.iteration === i);
          const get = (p: string): number => of.find((r) => r.phase === p)?.durationMs ?? NaN;
          expect(get('server')).toBeGreaterThanOrEqual(get('server_preprocess') + get('server_inference') + get('server_postprocess'));
        }
      }
    });
  });

  it('finds InceptionV3 slower than MobileNetV2 on the device and on the server', () => {
    const rows = (k: string): Measurement[] => results.get(k)?.rows ?? [];
    expect(phaseMedian(rows('inception_v3/on_device'), 'inference')).toBeGreaterThan(phaseMedian(rows('mobilenet_v2/on_device'), 'inference'));
    expect(phaseMedian(rows('inception_v3/cloud'), 'server_inference')).toBeGreaterThan(phaseMedian(rows('mobilenet_v2/cloud'), 'server_inference'));
  });

  it('gets the same top-1 class for the same image on the device and from the server', () => {
    for (const model of BUNDLED_MODELS) {
      const device = results.get(`${model}/on_device`)?.result.top1 ?? [];
      const cloud = results.get(`${model}/cloud`)?.result.top1 ?? [];
      expect(device).toHaveLength(WARMUP + ITERATIONS);
      for (const d of device) {
        const c = cloud.find((x) => x.image === d.image);
        expect({ model, image: d.image, className: c?.className }).toEqual({ model, image: d.image, className: d.className });
      }
    }
  });

  it('reports the figures (session creation, per-phase medians)', () => {
    const table = [...results].map(([key, r]) => {
      const phases = [...new Set(r.rows.map((m) => m.phase))];
      return `${key.padEnd(24)} session ${r.timings.sessionMs.toFixed(0)} ms | ${phases.map((p) => `${p} ${phaseMedian(r.rows, p).toFixed(p.endsWith('postprocess') ? 3 : 1)}`).join(', ')}`;
    });
    console.log(`browser backend, ${results.get('mobilenet_v2/on_device')?.result.userAgent ?? ''}\n${table.join('\n')}`);
    expect(table).toHaveLength(6);
  });

  it('stops a cancelled run with the abort reason, at the next poll', async () => {
    const c = fakeContext({ model: 'mobilenet_v2', scenario: 'on_device', iterations: 500, warmup: 0 });
    const reason = new Error('cancelled by the test');
    const before = (await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('farm-chromium-'));
    const started = backend.run(serial, c.context);
    const stopped = started.then(
      () => null,
      (err: unknown) => ({ err, at: performance.now() }),
    );
    // Once the page runs, let it load the model and start iterating.
    for (let i = 0; i < 200 && !c.statuses.includes('running'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.statuses).toEqual(['preparing', 'running']);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const abortedAt = performance.now();
    c.controller.abort(reason);
    const outcome = await stopped;
    expect(outcome?.err).toBe(reason);
    expect((outcome?.at ?? Infinity) - abortedAt).toBeLessThan(3_000);
    expect(c.rows).toEqual([]);
    // The session is deleted behind: its browser's profile folder goes once the browser has quit
    // (a busy browser on a loaded host may take many seconds to quit).
    const profiles = async (): Promise<string[]> => (await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('farm-chromium-') && !before.includes(n));
    for (let i = 0; i < 160 && (await profiles()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await profiles()).toEqual([]);
  });

  it('starts Appium again when it dies', async () => {
    const appium = backend.appiumServer;
    if (!appium?.pid) throw new Error('the backend runs no Appium');
    const { pid } = appium;
    process.kill(pid, 'SIGKILL');
    const c = fakeContext({ model: 'mobilenet_v2', scenario: 'on_device', iterations: 1, warmup: 0 });
    // A run that lands before the restart starts Appium itself; either way it must pass.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await backend.run(serial, c.context);
    expect(c.rows.filter((r) => r.phase === 'total')).toHaveLength(1);
    expect(appium.restarts).toBe(1);
    expect(appium.pid).not.toBe(pid);
  });

  it('fails a run the page reports as failed as a benchmark error, including a registered model the API cannot give', async () => {
    const [device] = await backend.discover();
    const unreachable = new BrowserBackend({
      agentName: 'unreachable',
      slots: 1,
      // Nothing listens on the discard port: the page's first upload fails.
      inferenceUrl: 'http://127.0.0.1:9',
      apiUrl: NO_API,
      benchWebUrl: String(device.properties.benchWebUrl),
      appiumUrl: backend.appiumServer?.url ?? undefined,
      chromiumPath: CHROMIUM,
      chromedriverPath: CHROMEDRIVER,
      pollMs: 250,
    });
    try {
      const c = fakeContext({ scenario: 'cloud' });
      const err = await unreachable.run('unreachable-chromium-1', c.context).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(RunError);
      expect(err).toMatchObject({ kind: 'benchmark', message: expect.stringContaining('bench-web: the inference server at http://127.0.0.1:9 could not be reached') });
      expect(c.rows).toEqual([]);
      // Not bundled: the page asks the API for it, and nothing listens there either.
      const other = await unreachable.run('unreachable-chromium-1', fakeContext({ model: 'resnet50' }).context).then(() => null, (e: unknown) => e);
      expect(other).toMatchObject({ kind: 'benchmark', message: expect.stringContaining('bench-web: the API at http://127.0.0.1:9 could not be reached') });
    } finally {
      await unreachable.close();
    }
  });

  describe('with a broken driver set-up', () => {
    let dir: string;
    const broken = (paths: { chromiumPath?: string; chromedriverPath?: string }): BrowserBackend =>
      new BrowserBackend({
        agentName: 'broken',
        slots: 1,
        inferenceUrl: inference.url,
        apiUrl: NO_API,
        // Never reached: these runs fail before a page is opened.
        benchWebUrl: 'http://127.0.0.1:9/',
        appiumUrl: backend.appiumServer?.url ?? undefined,
        chromiumPath: CHROMIUM,
        chromedriverPath: CHROMEDRIVER,
        ...paths,
      });
    const failure = async (b: BrowserBackend): Promise<unknown> => {
      const c = fakeContext({});
      try {
        return await b.run('broken-chromium-1', c.context).then(() => null, (e: unknown) => e);
      } finally {
        await b.close();
        expect(c.rows).toEqual([]);
      }
    };

    beforeAll(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'browser-spec-'));
    });
    afterAll(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('names the missing chromedriver at discovery, and fails its runs as driver errors', async () => {
      const missing = broken({ chromedriverPath: path.join(dir, 'no-chromedriver') });
      await expect(missing.discover()).rejects.toThrow(INSTALL_HINT);
      const err = await failure(missing);
      expect(err).toBeInstanceOf(RunError);
      expect(err).toMatchObject({ kind: 'driver', message: expect.stringContaining(`chromedriver is not an executable at ${path.join(dir, 'no-chromedriver')}`) });
    });

    it('fails runs as driver errors when the chromedriver does not run', async () => {
      const err = await failure(broken({ chromedriverPath: '/bin/false' }));
      expect(err).toMatchObject({ kind: 'driver', message: expect.stringContaining('/bin/false --version failed') });
    });

    it('fails runs as driver errors when Appium cannot open a session', async () => {
      // Passes the version check, then cannot start as a browser.
      const fake = path.join(dir, 'fake-chromium');
      const [device] = await backend.discover();
      const version = String(device.properties.chromedriverVersion);
      await fs.writeFile(fake, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Chromium ${version}"; exit 0; fi\nexit 1\n`, { mode: 0o755 });
      const err = await failure(broken({ chromiumPath: fake }));
      expect(err).toBeInstanceOf(RunError);
      expect(err).toMatchObject({ kind: 'driver', message: expect.stringMatching(/^Appium\/Chromium: POST \/session: .*session not created/) });
    });
  });
});
