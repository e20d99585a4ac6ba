import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUNDLED_MODELS, type ApiError } from '@farm/contracts';
import { classify, disposeModel, getModelInfo, loadModel, testImagesDir, type NodeLoadedModel } from '@farm/models';
import type { Logger } from './logger';
import { startInferenceServer, type InferenceServer, type InferResponse } from './server';

jest.setTimeout(120_000);

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const image = (file: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(path.join(testImagesDir(), file)));
const MAX_BYTES = 200_000;
/** Nothing listens on the discard port: registered models cannot be fetched here. */
const NO_API = 'http://127.0.0.1:9';

async function post(base: string, query: string, body: BodyInit, contentType?: string): Promise<Response> {
  return fetch(`${base}/v1/infer?${query}`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });
}

async function expectError(res: Response, status: number, detailPath?: string): Promise<ApiError> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ApiError;
  expect(body.statusCode).toBe(status);
  expect(typeof body.error).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(Array.isArray(body.details)).toBe(true);
  if (detailPath) expect(body.details.map((d) => d.path)).toContain(detailPath);
  return body;
}

describe('inference server', () => {
  let server: InferenceServer & { url: string };
  const local = new Map<string, NodeLoadedModel>();

  beforeAll(async () => {
    server = await startInferenceServer(
      { port: 0, host: '127.0.0.1', models: [...BUNDLED_MODELS], concurrency: 1, queue: 8, maxBytes: MAX_BYTES, apiUrl: NO_API, modelFetchTimeoutMs: 5000 },
      { logger: quiet },
    );
    for (const name of BUNDLED_MODELS) local.set(name, await loadModel(name));
  });
  afterAll(async () => {
    local.forEach(disposeModel);
    await server?.stop();
  });

  it('reports health and lists the loaded models with registry facts and load times', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', models: [...BUNDLED_MODELS], workers: { ready: 1, total: 1 } });

    const res = await fetch(`${server.url}/v1/models`);
    expect(res.status).toBe(200);
    const { models } = (await res.json()) as { models: Record<string, unknown>[] };
    expect(models.map((m) => m.name)).toEqual([...BUNDLED_MODELS]);
    for (const m of models) {
      const info = await getModelInfo(m.name as string);
      expect(m).toMatchObject({ format: info.format, version: info.version, sizeBytes: info.sizeBytes, weightsSha256: info.weightsSha256, inputShape: [...info.inputShape] });
      expect(m.loadMs).toBeGreaterThan(0);
      expect(JSON.stringify(m)).not.toContain(info.files.dir);
    }
  });

  it.each([...BUNDLED_MODELS])('classifies with %s as the in-process classify does', async (name) => {
    const bytes = image('landscape.jpg');
    const res = await post(server.url, `model=${name}`, bytes, 'image/jpeg');
    expect(res.status).toBe(200);
    const body = (await res.json()) as InferResponse;
    const mine = await classify(local.get(name) as NodeLoadedModel, new Uint8Array(bytes));
    expect(body.model).toBe(name);
    expect(body.topk).toHaveLength(5);
    expect(body.topk[0].className).toBe(mine.topk[0].className);
    expect(body.topk[0].probability).toBeCloseTo(mine.topk[0].probability, 5);
    const t = body.timings;
    for (const k of ['server_preprocess', 'server_inference', 'server_postprocess', 'server'] as const) expect(t[k]).toBeGreaterThan(0);
    expect(t.server).toBeGreaterThanOrEqual(t.server_preprocess + t.server_inference + t.server_postprocess);
  });

  it('takes a PNG as a multipart "image" field, and honours topk', async () => {
    const bytes = image('shapes.png');
    const form = new FormData();
    form.append('image', new Blob([bytes], { type: 'image/png' }), 'shapes.png');
    const res = await fetch(`${server.url}/v1/infer?model=mobilenet_v2&topk=2`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as InferResponse;
    const mine = await classify(local.get('mobilenet_v2') as NodeLoadedModel, new Uint8Array(bytes), { topk: 2 });
    expect(body.topk.map((t) => t.className)).toEqual(mine.topk.map((t) => t.className));

    const empty = new FormData();
    empty.append('other', 'x');
    await expectError(await fetch(`${server.url}/v1/infer?model=mobilenet_v2`, { method: 'POST', body: empty }), 400, 'image');
  });

  it('answers 400 for a missing or malformed model name or a bad topk', async () => {
    const bytes = image('gradient.jpg');
    await expectError(await post(server.url, 'model=Res%20Net!', bytes, 'image/jpeg'), 400, 'model');
    await expectError(await post(server.url, '', bytes, 'image/jpeg'), 400, 'model');
    await expectError(await post(server.url, 'model=mobilenet_v2&topk=0', bytes, 'image/jpeg'), 400, 'topk');
    await expectError(await post(server.url, 'model=mobilenet_v2&topk=6', bytes, 'image/jpeg'), 400, 'topk');
  });

  it('answers 502 naming the model when a model it does not hold cannot be fetched from the API', async () => {
    const body = await expectError(await post(server.url, 'model=resnet_50', image('gradient.jpg'), 'image/jpeg'), 502, 'model');
    expect(body.message).toContain(`model "resnet_50" cannot be run: the API at ${NO_API} could not be reached`);
  });

  it('answers 400 for bytes that are not an image', async () => {
    const body = await expectError(await post(server.url, 'model=mobilenet_v2', new TextEncoder().encode('this is not a picture at all'), 'image/jpeg'), 400, 'body');
    expect(body.message).toMatch(/could not be decoded/);
    const truncated = image('landscape.jpg').subarray(0, 600);
    await expectError(await post(server.url, 'model=mobilenet_v2', truncated, 'image/png'), 400, 'body');
  });

  it('answers 413 for a body over the limit, declared or streamed', async () => {
    const big = new Uint8Array(MAX_BYTES + 1).fill(0xff);
    await expectError(await post(server.url, 'model=mobilenet_v2', big, 'image/jpeg'), 413, 'body');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(MAX_BYTES / 4));
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/v1/infer?model=mobilenet_v2`, {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'image/jpeg' },
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'body');
    // The server still serves afterwards.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('answers 415 for an unsupported or missing content type', async () => {
    await expectError(await post(server.url, 'model=mobilenet_v2', 'hello', 'text/plain'), 415, 'content-type');
    await expectError(await post(server.url, 'model=mobilenet_v2', image('gradient.jpg')), 415, 'content-type');
  });

  it('answers 404 and 405 as JSON errors, and CORS preflights', async () => {
    await expectError(await fetch(`${server.url}/v2/nothing`), 404);
    const wrong = await fetch(`${server.url}/v1/infer`);
    expect(wrong.headers.get('allow')).toBe('POST');
    await expectError(wrong, 405);
    const pre = await fetch(`${server.url}/v1/infer`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/content-type/i);
  });

  it('serves the converted model files for pages to load', async () => {
    const info = await getModelInfo('mobilenet_v2_mid');
    const json = (await (await fetch(`${server.url}/v1/models/mobilenet_v2_mid/model.json`)).json()) as { weightsManifest: { paths: string[] }[] };
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const weights = await fetch(`${server.url}/v1/models/mobilenet_v2_mid/weights.bin`);
    const etag = weights.headers.get('etag') as string;
    const data = Buffer.from(await weights.arrayBuffer());
    expect(createHash('sha256').update(data).digest('hex')).toBe(info.weightsSha256);
    const again = await fetch(`${server.url}/v1/models/mobilenet_v2_mid/weights.bin`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    await expectError(await fetch(`${server.url}/v1/models/resnet/model.json`), 404);
  });
});

describe('inference server admission', () => {
  let server: InferenceServer & { url: string };

  beforeAll(async () => {
    server = await startInferenceServer(
      { port: 0, host: '127.0.0.1', models: ['inception_v3'], concurrency: 1, queue: 0, maxBytes: MAX_BYTES, apiUrl: NO_API, modelFetchTimeoutMs: 5000 },
      { logger: quiet },
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers 503 with Retry-After at once when every worker is busy and the queue is full', async () => {
    const bytes = image('landscape.jpg');
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await post(server.url, 'model=inception_v3', bytes, 'image/jpeg');
        return { res, ms: performance.now() - started, body: (await res.json()) as InferResponse | ApiError };
      }),
    );
    const ok = responses.filter((r) => r.res.status === 200);
    const busy = responses.filter((r) => r.res.status === 503);
    expect(ok.length + busy.length).toBe(responses.length);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const b of busy) {
      expect(b.res.headers.get('retry-after')).toBe('1');
      expect((b.body as ApiError).statusCode).toBe(503);
    }
    // Refusals do not wait for the running inference.
    const slowestRefusal = Math.max(...busy.map((b) => b.ms));
    const firstSuccess = Math.min(...ok.map((o) => o.ms));
    expect(slowestRefusal).toBeLessThan(firstSuccess);

    // The worker thread keeps the main thread free: health answers during an inference.
    let finished = false;
    const running = post(server.url, 'model=inception_v3', bytes, 'image/jpeg').finally(() => (finished = true));
    let sawBusy = false;
    while (!finished && !sawBusy) {
      const health = await fetch(`${server.url}/health`);
      sawBusy = ((await health.json()) as { inFlight: number }).inFlight === 1;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(sawBusy).toBe(true);
    expect((await running).status).toBe(200);
  });

  it('stops: the port closes', async () => {
    const url = server.url;
    await server.stop();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
