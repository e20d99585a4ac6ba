import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BUNDLED_MODELS } from '@farm/contracts';
import { NSFW_CLASS_NAMES, UnknownModelError } from '../lib/specs';
import { ensureConverted, readFreshMeta } from './convert';
import { BUNDLED_MODEL_NAMES, getModelInfo, listModels } from './registry';

const sha256 = async (file: string): Promise<string> => createHash('sha256').update(await fs.readFile(file)).digest('hex');

describe('model registry', () => {
  it('describes the three bundled models', async () => {
    expect(BUNDLED_MODEL_NAMES).toEqual([...BUNDLED_MODELS]);
    const infos = await listModels();
    expect(infos.map((i) => [i.name, i.format, i.inputShape, i.output])).toEqual([
      ['mobilenet_v2', 'tfjs-layers', [1, 224, 224, 3], 'probabilities'],
      ['mobilenet_v2_mid', 'tfjs-graph', [1, 224, 224, 3], 'probabilities'],
      ['inception_v3', 'tfjs-layers', [1, 299, 299, 3], 'probabilities'],
    ]);
    for (const info of infos) {
      expect(info.classNames).toEqual([...NSFW_CLASS_NAMES]);
      expect(info.version).toMatch(/^nsfwjs@\d+\.\d+\.\d+$/);
      expect(info.quantization).toBe('uint8');
      const [json, weights] = await Promise.all([fs.stat(info.files.modelJson), fs.stat(info.files.weights)]);
      expect(info.weightsBytes).toBe(weights.size);
      expect(info.sizeBytes).toBe(json.size + weights.size);
      expect(info.weightsSha256).toBe(await sha256(info.files.weights));
    }
    // Three sizes of CNN, as in the study; uint8 weights are about a quarter of float32.
    const bytes = infos.map((i) => i.weightsBytes);
    expect(bytes[0]).toBeLessThan(bytes[1]);
    expect(bytes[1]).toBeLessThan(bytes[2]);
    expect(bytes[2]).toBeLessThan(30e6);
  });

  it('refuses an unknown model', async () => {
    await expect(getModelInfo('resnet_50')).rejects.toThrow(UnknownModelError);
  });
});

describe('conversion cache', () => {
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = await fs.mkdtemp(path.join(tmpdir(), 'models-cache-'));
  });
  afterAll(async () => {
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it('converts once, then finds the cache fresh; rebuilds it when a file changed', async () => {
    const first = await ensureConverted('mobilenet_v2', { cacheDir });
    expect(first.converted).toBe(true);
    const manifest = JSON.parse(await fs.readFile(path.join(first.dir, 'model.json'), 'utf8')) as {
      format: string;
      weightsManifest: { paths: string[]; weights: unknown[] }[];
    };
    expect(manifest.format).toBe('layers-model');
    expect(manifest.weightsManifest).toHaveLength(1);
    expect(manifest.weightsManifest[0].paths).toEqual(['weights.bin']);

    const second = await ensureConverted('mobilenet_v2', { cacheDir });
    expect(second.converted).toBe(false);
    expect(second.meta.weights.sha256).toBe(first.meta.weights.sha256);

    // Same size, different content: only the sha256 can tell.
    const weights = path.join(first.dir, 'weights.bin');
    const data = await fs.readFile(weights);
    data[100] ^= 0xff;
    await fs.writeFile(weights, data);
    expect(await readFreshMeta('mobilenet_v2', cacheDir)).toBeNull();
    const third = await ensureConverted('mobilenet_v2', { cacheDir });
    expect(third.converted).toBe(true);
    expect(await sha256(weights)).toBe(first.meta.weights.sha256);
  });

  it('joins the graph model shards into one weights file', async () => {
    const r = await ensureConverted('mobilenet_v2_mid', { cacheDir });
    expect(r.meta.source.shards).toEqual(['group1-shard1of2', 'group1-shard2of2']);
    const json = JSON.parse(await fs.readFile(path.join(r.dir, 'model.json'), 'utf8')) as { format: string };
    expect(json.format).toBe('graph-model');
  });
});
