import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BUNDLED_MODELS } from '@farm/contracts';
import { getModelInfo, tfjsWasmDistDir } from '@farm/models';
import { benchWebInputsHash } from './build';
import { BENCH_WEB_VERSION } from '@farm/contracts';
import { ISOLATION_HEADERS, startBenchWebServer, type BenchWebServer } from './server';

jest.setTimeout(120_000);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('bench-web server', () => {
  let server: BenchWebServer;

  beforeAll(async () => {
    server = await startBenchWebServer({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const get = (p: string, init?: RequestInit): Promise<Response> => fetch(new URL(p, server.url), init);

  function expectIsolated(res: Response): void {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(res.headers.get(name)).toBe(value);
  }

  it('serves the build of the current sources, and names it', async () => {
    const hash = await benchWebInputsHash();
    expect(server.build).toMatchObject({ hash, version: `${BENCH_WEB_VERSION}+${hash.slice(0, 12)}` });
    await expect(fs.access(path.join(server.build.dir, 'index.html'))).resolves.toBeUndefined();
    const health = (await (await get('/health')).json()) as { version: string; models: string[] };
    expect(health).toEqual({ status: 'ok', version: server.build.version, models: [...BUNDLED_MODELS] });
  });

  it('serves the page and its script cross-origin isolated', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expectIsolated(page);
    const html = await page.text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await get(`/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expectIsolated(js);
    const code = await js.text();
    expect(code).toContain(server.build.version);
    // The bundle is for a page: no Node built-ins.
    expect(code).not.toMatch(/from\s*["']node:/);
  });

  it.each([...BUNDLED_MODELS])('serves the converted %s files byte for byte, never cached', async (name) => {
    const info = await getModelInfo(name);
    const json = await get(`/models/${name}/model.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('cache-control')).toBe('no-store');
    expectIsolated(json);
    expect(sha256(new Uint8Array(await json.arrayBuffer()))).toBe(info.modelJsonSha256);
    const weights = await get(`/models/${name}/weights.bin`);
    expect(sha256(new Uint8Array(await weights.arrayBuffer()))).toBe(info.weightsSha256);
  });

  it('serves the test images with their manifest, and the wasm binaries as application/wasm', async () => {
    const manifest = (await (await get('/images/manifest.json')).json()) as { images: { file: string; sha256: string }[] };
    expect(manifest.images.length).toBeGreaterThan(0);
    for (const image of manifest.images) {
      const res = await get(`/images/${image.file}`);
      expect(res.status).toBe(200);
      expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(image.sha256);
    }
    for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) {
      const res = await get(`/tfjs-wasm/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/wasm');
      expect(Number(res.headers.get('content-length'))).toBe((await fs.stat(path.join(tfjsWasmDistDir(), file))).size);
      await res.arrayBuffer();
    }
  });

  it('answers HEAD without a body, 404 for anything else, 405 for writes', async () => {
    const head = await get('/models/mobilenet_v2/weights.bin', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe((await getModelInfo('mobilenet_v2')).weightsBytes);
    for (const p of ['/models/resnet/model.json', '/images/%2e%2e%2fmanifest.json', '/images/../package.json', '/tfjs-wasm/other.wasm', '/assets/none.js', '/nope']) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 404]);
      expectIsolated(res);
    }
    const post = await get('/', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
