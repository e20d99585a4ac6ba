import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BUNDLED_MODELS } from '@farm/contracts';
import { classify } from '../lib/classify';
import { NSFW_CLASS_NAMES } from '../lib/specs';
import { disposeModel, loadModel, type NodeLoadedModel } from './loader';
import { testImagesDir } from './paths';

jest.setTimeout(60_000);

const image = (file: string): Uint8Array => new Uint8Array(readFileSync(path.join(testImagesDir(), file)));
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];

describe('loading and classifying on the wasm backend', () => {
  const models = new Map<string, NodeLoadedModel>();

  beforeAll(async () => {
    for (const name of BUNDLED_MODELS) models.set(name, await loadModel(name));
  });
  afterAll(() => models.forEach(disposeModel));

  it('runs on the single-threaded wasm backend', async () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
  });

  it.each([...BUNDLED_MODELS])('%s loads and classifies the test images', async (name) => {
    const model = models.get(name) as NodeLoadedModel;
    expect(model.loadMs).toBeGreaterThan(0);
    expect(model.warmupMs).toBeGreaterThan(0);
    for (const file of ['landscape.jpg', 'shapes.png']) {
      const r = await classify(model, image(file));
      expect(r.model).toBe(name);
      expect(r.topk.map((t) => t.className).sort()).toEqual([...NSFW_CLASS_NAMES].sort());
      const sum = r.topk.reduce((s, t) => s + t.probability, 0);
      expect(sum).toBeCloseTo(1, 4);
      r.topk.slice(1).forEach((t, i) => expect(t.probability).toBeLessThanOrEqual(r.topk[i].probability));
      for (const phase of ['preprocess', 'inference', 'postprocess'] as const) expect(r.timings[phase]).toBeGreaterThan(0);
      // Same input, same output: the benchmark's two sides rely on this.
      const again = await classify(model, image(file), { topk: 2 });
      expect(again.topk).toEqual(r.topk.slice(0, 2));
    }
  });

  it('refuses a topk outside 1..classes', async () => {
    const model = models.get('mobilenet_v2') as NodeLoadedModel;
    await expect(classify(model, image('gradient.jpg'), { topk: 0 })).rejects.toThrow(RangeError);
    await expect(classify(model, image('gradient.jpg'), { topk: 6 })).rejects.toThrow(RangeError);
  });

  it('times inception_v3 inference slower than mobilenet_v2', async () => {
    const bytes = image('gradient.jpg');
    const times = async (name: string): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await classify(models.get(name) as NodeLoadedModel, bytes)).timings.inference);
      return out;
    };
    const mobilenet = median(await times('mobilenet_v2'));
    const inception = median(await times('inception_v3'));
    expect(inception).toBeGreaterThan(mobilenet * 1.5);
  });
});
