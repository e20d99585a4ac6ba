import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { FarmApi } from '@farm/client';
import type { ApiError, JobView, ModelView } from '@farm/contracts';
import { tinyModel, TINY_INPUT, uploadModel } from './model-fixtures';
import { startTestFarm, until, type TestFarm } from './support';

type Upload = Parameters<typeof uploadModel>[1];

describe('/api/models', () => {
  let farm: TestFarm;
  let modelJson: string;
  let weights: Uint8Array<ArrayBuffer>;
  let logits: Awaited<ReturnType<typeof tinyModel>>;
  let vector: Awaited<ReturnType<typeof tinyModel>>;

  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'models', env: { SIM_DEVICES: '1' } }]);
    ({ modelJson, weights } = await tinyModel('image', 'softmax'));
    logits = await tinyModel('image', 'linear');
    vector = await tinyModel('vector', 'softmax');
  });
  afterAll(() => farm.stop());

  const upload = <T>(body: Upload) => uploadModel<T>(farm.stack, body);
  const filesOf = (saved: { modelJson: string; weights: Uint8Array<ArrayBuffer> }): Upload['files'] => [
    { name: 'model.json', bytes: saved.modelJson },
    { name: 'weights.bin', bytes: saved.weights },
  ];

  const good = (name: string): Upload => ({
    name,
    files: [
      { name: 'model.json', bytes: modelJson },
      { name: 'weights.bin', bytes: weights },
    ],
  });

  async function tableCounts(): Promise<string> {
    const { rows } = await farm.db.query(
      `SELECT (SELECT count(*) FROM registered_models)::int AS models, (SELECT count(*) FROM registered_model_files)::int AS files`,
    );
    return JSON.stringify(rows[0]);
  }

  it('registers a real model, lists it, serves its files, and accepts a job naming it', async () => {
    const created = await upload<ModelView>({ ...good('tiny-dense.v1'), classNames: JSON.stringify(['a', 'b', 'c']) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'tiny-dense.v1',
      bundled: false,
      format: 'tfjs-layers',
      sha256: createHash('sha256').update(weights).digest('hex'),
      sizeBytes: Buffer.byteLength(modelJson) + weights.length,
      inputShape: [1, TINY_INPUT, TINY_INPUT, 3],
      inputSize: TINY_INPUT,
      output: 'probabilities',
      outputSize: 3,
      classNames: ['a', 'b', 'c'],
    });

    const list = await farm.api.request<ModelView[]>('GET', '/api/models');
    expect(list.status).toBe(200);
    expect(list.body.filter((m) => m.bundled).map((m) => m.name)).toEqual(['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3']);
    expect(list.body.find((m) => m.name === 'tiny-dense.v1')).toMatchObject({ bundled: false, outputSize: 3 });

    // A cross-origin isolated page (bench-web) on another origin reads the spec and the files.
    const one = await fetch(`${farm.stack.apiUrl}/api/models/tiny-dense.v1`);
    expect(one.status).toBe(200);
    expect((await one.json()) as ModelView).toMatchObject({ inputSize: TINY_INPUT, output: 'probabilities', files: [{ path: 'model.json' }, { path: 'weights.bin' }] });
    for (const response of [one, await fetch(`${farm.stack.apiUrl}/api/models/tiny-dense.v1/files/weights.bin`), await fetch(`${farm.stack.apiUrl}/api/models/no-such-model`)]) {
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    }

    const bin = await fetch(`${farm.stack.apiUrl}/api/models/tiny-dense.v1/files/weights.bin`);
    expect(bin.status).toBe(200);
    expect(bin.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await bin.arrayBuffer()).equals(Buffer.from(weights))).toBe(true);
    const json = await fetch(`${farm.stack.apiUrl}/api/models/tiny-dense.v1/files/model.json`);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.text()).toBe(modelJson);
    expect((await fetch(`${farm.stack.apiUrl}/api/models/tiny-dense.v1/files/other.bin`)).status).toBe(404);
    expect((await fetch(`${farm.stack.apiUrl}/api/models/no-such-model`)).status).toBe(404);

    const job = await farm.api.request<JobView>('POST', '/api/jobs', {
      name: 'registered model',
      models: ['tiny-dense.v1'],
      scenarios: ['on_device'],
      iterations: 1,
      devices: { tags: [farm.tag] },
    });
    expect(job.status).toBe(201);
    expect(job.body.runs?.map((r) => r.model)).toEqual(['tiny-dense.v1']);
  });

  it('gives a registered model without classNames numbered class names', async () => {
    const created = await upload<ModelView>(good('tiny-unnamed'));
    expect(created.status).toBe(201);
    expect(created.body.classNames).toEqual(['class_0', 'class_1', 'class_2']);
  });

  it('takes the output kind as declared, or detects logits from the forward pass on zeros', async () => {
    const declared = await upload<ModelView>({ name: 'tiny-logits-declared', output: 'logits', files: filesOf(logits) });
    expect(declared.status).toBe(201);
    expect(declared.body.output).toBe('logits');
    // Zeros give [0, -10, -26.5]: not probabilities, so not a softmax's output.
    const detected = await upload<ModelView>({ name: 'tiny-logits-detected', files: filesOf(logits) });
    expect(detected.status).toBe(201);
    expect(detected.body.output).toBe('logits');
    // A softmax's output declared as logits is taken at its word.
    const softmaxAsLogits = await upload<ModelView>({ name: 'tiny-softmax-as-logits', output: 'logits', files: filesOf({ modelJson, weights }) });
    expect(softmaxAsLogits.body.output).toBe('logits');
  });

  it('sizes uint8-quantized weights at one byte per element', async () => {
    const parsed = JSON.parse(modelJson) as { weightsManifest: { paths: string[]; weights: { shape: number[]; quantization?: object }[] }[] };
    const group = parsed.weightsManifest[0];
    for (const spec of group.weights) spec.quantization = { dtype: 'uint8', min: -1, scale: 2 / 255 };
    const elements = group.weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
    const quantized = { name: 'tiny-uint8', files: [{ name: 'model.json', bytes: JSON.stringify(parsed) }, { name: 'weights.bin', bytes: new Uint8Array(elements).fill(128) }] };
    const created = await upload<ModelView>(quantized);
    expect(created.status).toBe(201);
    expect(created.body.outputSize).toBe(3);
    const float32Sized = await upload<ApiError>({ ...quantized, name: 'tiny-uint8-wrong', files: [quantized.files[0], { name: 'weights.bin', bytes: weights }] });
    expect(float32Sized.status).toBe(422);
  });

  const cases: [string, () => Upload, number, string][] = [
    ['bad name', () => good('Tiny Model!'), 400, 'name'],
    ['no name', () => ({ ...good('x'), name: undefined }), 400, 'name'],
    ['no model.json', () => ({ name: 'no-json', files: [{ name: 'weights.bin', bytes: weights }] }), 400, 'files.model.json'],
    ['model.json not JSON', () => ({ name: 'bad-json', files: [{ name: 'model.json', bytes: '{"format": ' }, { name: 'weights.bin', bytes: weights }] }), 400, 'files.model.json'],
    ['missing weight file', () => ({ name: 'no-weights', files: [{ name: 'model.json', bytes: modelJson }] }), 400, 'files.weights.bin'],
    ['extra file', () => ({ ...good('extra'), files: [...good('extra').files, { name: 'notes.txt', bytes: 'hi' }] }), 400, 'files.notes.txt'],
    ['classNames not JSON', () => ({ ...good('bad-classes'), classNames: 'a,b,c' }), 400, 'classNames'],
    ['truncated weights', () => ({ name: 'truncated', files: [{ name: 'model.json', bytes: modelJson }, { name: 'weights.bin', bytes: weights.slice(0, weights.length - 4) }] }), 422, 'files.weights.bin'],
    ['classNames length mismatch', () => ({ ...good('mismatch'), classNames: JSON.stringify(['a', 'b']) }), 422, 'classNames'],
    ['a topology that does not load', () => ({ ...good('broken'), files: [{ name: 'model.json', bytes: modelJson.replace('"Dense"', '"NoSuchLayer"') }, { name: 'weights.bin', bytes: weights }] }), 422, 'files.model.json'],
    // A bundled name is taken like a registered one: 409, as for a duplicate.
    ['bad output kind', () => ({ ...good('bad-output'), output: 'scores' }), 400, 'output'],
    ['logits declared as probabilities', () => ({ name: 'logits-as-probabilities', output: 'probabilities', files: filesOf(logits) }), 422, 'output'],
    ['an input that is not an image', () => ({ name: 'vector-input', files: filesOf(vector) }), 422, 'files.model.json'],
    ['bundled name', () => good('mobilenet_v2'), 409, 'name'],
    ['duplicate name', () => good('tiny-dense.v1'), 409, 'name'],
  ];

  it.each(cases.map(([what, body, status, path]) => ({ what, body, status, path })))('$what: $status naming $path, nothing written', async ({ body, status, path }) => {
    const before = await tableCounts();
    const response = await upload<ApiError>(body());
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ statusCode: status, message: expect.any(String) });
    expect(response.body.details.map((d) => d.path)).toContain(path);
    expect(await tableCounts()).toBe(before);
  });

  it('still refuses a job naming a model that is neither bundled nor registered', async () => {
    const job = await farm.api.request<ApiError>('POST', '/api/jobs', {
      name: 'unknown model',
      models: ['tiny-dense.v1', 'not-registered'],
      scenarios: ['on_device'],
      iterations: 1,
      devices: { tags: [farm.tag] },
    });
    expect(job.status).toBe(422);
    expect(job.body.details).toEqual([{ path: 'models[1]', message: expect.stringContaining('not-registered') }]);
  });
});

describe('/api/models while the API waits for database connections', () => {
  it('registers the model once a connection comes free, 3 s on, rather than answer 500', async () => {
    const farm = await startTestFarm([], { DATABASE_POOL_SIZE: '2' });
    const blocker = new Client({ connectionString: process.env['DATABASE_URL'] });
    await blocker.connect();
    try {
      const tokens = await Promise.all(['a', 'b'].map((suffix) => farm.stack.createToken({ role: 'agent', agent: `busy-${suffix}-${farm.tag}` })));
      const { modelJson, weights } = await tinyModel('image', 'softmax');
      // The API holds a token it has just read for 2 s: the upload's own check needs no connection.
      expect((await farm.api.request('GET', '/api/models')).status).toBe(200);
      // Two agent registrations take the API's two connections and wait on a lock held here,
      // as registrations of a whole rack queue behind each other.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE agents IN EXCLUSIVE MODE');
      const registrations = ['a', 'b'].map((suffix, i) => {
        const name = `busy-${suffix}-${farm.tag}`;
        const api = new FarmApi(farm.stack.apiUrl, { token: tokens[i] });
        return api.request('POST', '/api/agents/register', { name, hostname: 'localhost', version: 'test', backends: ['simulated'], session: randomUUID(), devices: [] });
      });
      await until(
        async () => (await blocker.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'agents'::regclass AND NOT granted`)).rows[0]?.n === 2,
        10_000,
        'both registrations to wait on the lock',
      );
      const uploading = uploadModel<ModelView>(farm.stack, { name: `busy-${farm.tag}`, files: [{ name: 'model.json', bytes: modelJson }, { name: 'weights.bin', bytes: weights }] });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await blocker.query('ROLLBACK');
      expect((await uploading).status).toBe(201);
      expect((await Promise.all(registrations)).map((r) => r.status)).toEqual([201, 201]);
    } finally {
      await blocker.end();
      await farm.stop();
    }
  });
});
