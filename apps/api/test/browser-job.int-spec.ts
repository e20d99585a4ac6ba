import { BUNDLED_MODELS, CLOUD_PHASES, ON_DEVICE_PHASES, type MeasurementView, type Page } from '@farm/contracts';
import { PHASE_SUM_TOLERANCE_MS } from '@farm/contracts';
import { startTestFarm, type TestFarm } from './support';

type Top1 = Record<string, { className: string }>;

/**
 * A real job through the whole farm: the API, the inference server, and an agent whose one
 * device is headless Chromium driven through Appium, running the bench-web page with the three
 * real CNNs on-device and in the cloud.
 */
describe('a real job on the browser device', () => {
  let farm: TestFarm;
  const ITERATIONS = 3;

  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'browser', env: { BACKENDS: 'browser', LOG_LEVEL: 'warn' } }], {}, { inferenceServer: true });
  }, 180_000);
  afterAll(() => farm.stop());

  it('passes all 6 runs with real, consistent per-phase measurements', async () => {
    const job = await farm.api.submit({
      name: 'browser-real',
      models: [...BUNDLED_MODELS],
      scenarios: ['on_device', 'cloud'],
      devices: { backend: 'browser', tags: [farm.tag] },
      iterations: ITERATIONS,
      warmup: 1,
      network: 'lan',
    });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 280_000, pollMs: 500 });
    const failures = (done.runs ?? []).filter((r) => r.result !== 'passed').map((r) => `${r.model}/${r.scenario}: ${r.errorKind} ${r.errorMessage}`);
    expect(failures).toEqual([]);
    expect(done.progress).toMatchObject({ total: 6, passed: 6 });

    const { body } = await farm.api.request<Page<MeasurementView>>('GET', `/api/jobs/${job.id}/measurements?limit=10000`);
    const rows = body.items;
    expect(rows.every((r) => r.energyMethod === 'none')).toBe(true);

    for (const model of BUNDLED_MODELS) {
      for (const [scenario, phases] of [['on_device', ON_DEVICE_PHASES], ['cloud', CLOUD_PHASES]] as const) {
        const ofRun = rows.filter((r) => r.model === model && r.scenario === scenario);
        for (const phase of phases) expect({ model, scenario, phase, has: ofRun.some((r) => r.phase === phase) }).toMatchObject({ has: true });
        // The leaf phases of each iteration add up to its total (bench-web's stated tolerance).
        const leaves = scenario === 'on_device' ? ['preprocess', 'inference', 'postprocess'] : ['preprocess', 'upload', 'server', 'download'];
        for (let i = 1; i <= ITERATIONS + 1; i++) {
          const iteration = ofRun.filter((r) => r.iteration === i);
          const sum = iteration.filter((r) => leaves.includes(r.phase)).reduce((s, r) => s + r.durationMs, 0);
          const total = iteration.find((r) => r.phase === 'total')?.durationMs ?? Number.NaN;
          expect(Math.abs(sum - total)).toBeLessThanOrEqual(PHASE_SUM_TOLERANCE_MS);
        }
      }
    }

    const summary = await farm.api.summary(job.id);
    const inference = (model: string) => summary.groups.find((g) => g.model === model && g.scenario === 'on_device' && g.phase === 'inference')?.median ?? 0;
    expect(inference('inception_v3')).toBeGreaterThan(inference('mobilenet_v2'));
    expect(summary.groups.every((g) => g.backend === 'browser' && g.energyMethod === 'none')).toBe(true);

    // The same image gets the same top-1 class on the device and from the server.
    for (const model of BUNDLED_MODELS) {
      const top1 = (scenario: string) => (done.runs?.find((r) => r.model === model && r.scenario === scenario)?.details?.['top1'] ?? {}) as Top1;
      const device = top1('on_device');
      const cloud = top1('cloud');
      expect(Object.keys(device).length).toBeGreaterThan(0);
      for (const [image, { className }] of Object.entries(device)) expect({ model, image, cloud: cloud[image]?.className }).toEqual({ model, image, cloud: className });
    }
  }, 300_000);
});
