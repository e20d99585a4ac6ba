import { CLOUD_PHASES, LEAF_PHASES, ON_DEVICE_PHASES, PHASE_SUM_TOLERANCE_MS, type ApiError, type JobView, type MeasurementView, type ModelView, type Page, type Scenario } from '@farm/contracts';
import { startService, waitForHttp, type Service } from '../../../scripts/lib/processes';
import { freePort } from '../../../scripts/lib/stack';
import { TINY_CLASSES, TINY_INPUT, tinyModel, uploadModel, type SavedModel } from './model-fixtures';
import { startTestFarm, type TestFarm } from './support';

type Top1 = Record<string, { className: string }>;

const MODEL = 'tiny-cnn';
// With one warm-up iteration, every one of the five test images is classified once.
const ITERATIONS = 4;

/**
 * A model registered through the API, run end to end: on the browser device (the page fetches it
 * from the API) on-device and in the cloud (the inference server fetches it from the API), and on
 * simulated devices (timed by its size).
 */
describe('a job with a registered model', () => {
  let farm: TestFarm;
  let inference: Service;
  let inferenceUrl: string;
  let saved: SavedModel;

  beforeAll(async () => {
    const inferencePort = await freePort();
    inferenceUrl = `http://127.0.0.1:${inferencePort}`;
    farm = await startTestFarm([
      { name: 'browser', env: { BACKENDS: 'browser', INFERENCE_URL: inferenceUrl } },
      { name: 'sims', env: { SIM_DEVICES: '3' } },
    ]);
    // The inference server needs the API's URL, known only now.
    inference = startService(
      'inference-server',
      'apps/inference-server/src/main.ts',
      { ...farm.stack.env, PORT: String(inferencePort), HOST: '127.0.0.1', API_URL: farm.stack.apiUrl, INFERENCE_MODELS: 'mobilenet_v2', INFERENCE_CONCURRENCY: '1' },
      { quiet: !process.env['FARM_TEST_VERBOSE'] },
    );
    await waitForHttp(`${inferenceUrl}/health`, inference, 120_000);
    saved = await tinyModel('image', 'linear');
    const created = await uploadModel<ModelView>(farm.stack, {
      name: MODEL,
      classNames: JSON.stringify(TINY_CLASSES),
      files: [
        { name: 'model.json', bytes: saved.modelJson },
        { name: 'weights.bin', bytes: saved.weights },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ inputSize: TINY_INPUT, output: 'logits', classNames: TINY_CLASSES });
  }, 240_000);
  afterAll(async () => {
    await inference?.stop();
    await farm?.stop();
  });

  async function rowsOf(jobId: string): Promise<MeasurementView[]> {
    const { body } = await farm.api.request<Page<MeasurementView>>('GET', `/api/jobs/${jobId}/measurements?limit=10000`);
    return body.items;
  }

  function failures(job: JobView): string[] {
    return (job.runs ?? []).filter((r) => r.result !== 'passed').map((r) => `${r.model}/${r.scenario}: ${r.errorKind} ${r.errorMessage}`);
  }

  it('runs on the browser device, on-device and in the cloud, with the same top-1 class on both', async () => {
    const job = await farm.api.submit({
      name: 'registered-browser',
      models: [MODEL],
      scenarios: ['on_device', 'cloud'],
      devices: { backend: 'browser', tags: [farm.tag] },
      iterations: ITERATIONS,
      warmup: 1,
      network: 'lan',
    });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 200_000, pollMs: 500 });
    expect(failures(done)).toEqual([]);
    expect(done.progress).toMatchObject({ total: 2, passed: 2 });

    const rows = await rowsOf(job.id);
    expect(rows.every((r) => r.energyMethod === 'none' && r.model === MODEL)).toBe(true);
    for (const [scenario, phases] of [['on_device', ON_DEVICE_PHASES], ['cloud', CLOUD_PHASES]] as [Scenario, readonly string[]][]) {
      const ofRun = rows.filter((r) => r.scenario === scenario);
      for (const phase of phases) expect({ scenario, phase, has: ofRun.some((r) => r.phase === phase) }).toMatchObject({ has: true });
      for (let i = 1; i <= ITERATIONS + 1; i++) {
        const iteration = ofRun.filter((r) => r.iteration === i);
        const sum = iteration.filter((r) => LEAF_PHASES[scenario].includes(r.phase)).reduce((s, r) => s + r.durationMs, 0);
        const total = iteration.find((r) => r.phase === 'total')?.durationMs ?? Number.NaN;
        expect(Math.abs(sum - total)).toBeLessThanOrEqual(PHASE_SUM_TOLERANCE_MS);
      }
    }

    const top1 = (scenario: Scenario) => (done.runs?.find((r) => r.scenario === scenario)?.details?.['top1'] ?? {}) as Top1;
    const device = top1('on_device');
    const cloud = top1('cloud');
    expect(Object.keys(device).length).toBe(5);
    for (const [image, { className }] of Object.entries(device)) expect({ image, cloud: cloud[image]?.className }).toEqual({ image, cloud: className });
    // The fixed weights split the test images by brightness: all three classes occur.
    expect(new Set(Object.values(device).map((t) => t.className))).toEqual(new Set(TINY_CLASSES));
    const modelLoad = done.runs?.find((r) => r.scenario === 'on_device')?.details?.['modelLoad'] as { verifyMs: number | null } | undefined;
    expect(modelLoad?.verifyMs).toEqual(expect.any(Number));

    const summary = await farm.api.summary(job.id);
    expect(summary.groups.every((g) => g.backend === 'browser' && g.energyMethod === 'none')).toBe(true);
    const medians = summary.groups.map((g) => `${g.scenario}/${g.phase}=${g.median.toFixed(3)}`).join(' ');
    console.log(`${MODEL} on the browser device, medians in ms: ${medians}`);

    // The server keeps the model it fetched, and says how long fetching and loading took.
    const models = (await (await fetch(`${inferenceUrl}/v1/models`)).json()) as { models: { name: string; registered?: boolean; fetchMs?: number; loadMs: number }[] };
    expect(models.models.find((m) => m.name === MODEL)).toMatchObject({ registered: true, fetchMs: expect.any(Number), loadMs: expect.any(Number) });
  }, 240_000);

  it('runs on simulated devices, every row labelled simulated', async () => {
    const job = await farm.api.submit({
      name: 'registered-simulated',
      models: [MODEL, 'mobilenet_v2'],
      scenarios: ['on_device', 'cloud'],
      devices: { backend: 'simulated', tags: [farm.tag] },
      iterations: ITERATIONS,
      warmup: 1,
    });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000, pollMs: 200 });
    expect(failures(done)).toEqual([]);
    expect(done.progress).toMatchObject({ total: 12, passed: 12 });
    const rows = await rowsOf(job.id);
    expect(rows.every((r) => r.energyMethod === 'simulated')).toBe(true);
    const summary = await farm.api.summary(job.id);
    expect(summary.groups.every((g) => g.backend === 'simulated' && g.energyMethod === 'simulated')).toBe(true);
    const phases = new Set(summary.groups.filter((g) => g.model === MODEL).map((g) => `${g.scenario}/${g.phase}`));
    for (const phase of ON_DEVICE_PHASES) expect(phases).toContain(`on_device/${phase}`);
    for (const phase of CLOUD_PHASES) expect(phases).toContain(`cloud/${phase}`);
    // A model of a few hundred bytes loads and infers faster than MobileNetV2 on the same phones.
    const median = (model: string, phase: string) =>
      summary.groups.filter((g) => g.model === model && g.scenario === 'on_device' && g.phase === phase).reduce((s, g) => s + g.median, 0);
    expect(median(MODEL, 'model_load')).toBeLessThan(median('mobilenet_v2', 'model_load'));
    expect(median(MODEL, 'inference')).toBeLessThan(median('mobilenet_v2', 'inference'));
  }, 90_000);

  it('answers 404 from the inference server for a model neither it nor the API knows', async () => {
    const response = await fetch(`${inferenceUrl}/v1/infer?model=never-registered`, { method: 'POST', body: new Uint8Array([0xff, 0xd8]), headers: { 'content-type': 'image/jpeg' } });
    expect(response.status).toBe(404);
    const body = (await response.json()) as ApiError;
    expect(body.message).toContain('unknown model "never-registered"');
    expect(body.details).toEqual([{ path: 'model', message: expect.stringContaining('knows no model "never-registered"') }]);
  });

  it('refuses a registered model whose files changed after registration: 502 from the server, a failed run on the device', async () => {
    const name = 'tiny-cnn-tampered';
    const created = await uploadModel<ModelView>(farm.stack, {
      name,
      files: [
        { name: 'model.json', bytes: saved.modelJson },
        { name: 'weights.bin', bytes: saved.weights },
      ],
    });
    expect(created.status).toBe(201);
    // Same size, one byte different: tfjs would load it, only the checksum tells.
    await farm.db.query(
      `UPDATE registered_model_files f SET bytes = set_byte(f.bytes, 0, (get_byte(f.bytes, 0) + 1) % 256)
         FROM registered_models m WHERE m.id = f.model_id AND m.name = $1 AND f.path = 'weights.bin'`,
      [name],
    );
    const response = await fetch(`${inferenceUrl}/v1/infer?model=${name}`, { method: 'POST', body: new Uint8Array([0xff, 0xd8]), headers: { 'content-type': 'image/jpeg' } });
    expect(response.status).toBe(502);
    expect(((await response.json()) as ApiError).message).toContain(`the registry says ${created.body.sha256}`);

    const job = await farm.api.submit({ name: 'tampered', models: [name], scenarios: ['on_device'], devices: { backend: 'browser', tags: [farm.tag] }, iterations: 1 });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 120_000, pollMs: 500 });
    expect(done.runs?.[0]).toMatchObject({ result: 'failed', errorKind: 'benchmark', errorMessage: expect.stringContaining(`the registry says ${created.body.sha256}`) });
  }, 150_000);
});
