import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import type { RgbaImage } from './pixels';
import { normalise, resizeBilinear, toInputTensorData } from './preprocess';

// Quiets tfjs's advice to install tfjs-node when the CPU backend is first used.
tf.env().set('IS_TEST', true);

function rgba(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  return { width, height, data };
}

describe('resizeBilinear', () => {
  it('maps corners onto corners and interpolates between them (align corners)', () => {
    // 2x2 red channel: 0 10 / 20 30; green and blue constant; alpha ignored.
    const red = [0, 10, 20, 30];
    const img = rgba(2, 2, (x, y) => [red[y * 2 + x], 100, 200, (x + y) * 50]);
    const out = resizeBilinear(img, 3, 3);
    const r = Array.from({ length: 9 }, (_, i) => out[i * 3]);
    expect(r).toEqual([0, 5, 10, 10, 15, 20, 20, 25, 30]);
    for (let i = 0; i < 9; i++) {
      expect(out[i * 3 + 1]).toBe(100);
      expect(out[i * 3 + 2]).toBe(200);
    }
  });

  it('keeps an image at its own size unchanged and samples corners when shrinking', () => {
    const img = rgba(4, 3, (x, y) => [x * 60, y * 100, 7, 255]);
    expect(Array.from(resizeBilinear(img, 4, 3))).toEqual(
      Array.from({ length: 12 }, (_, i) => [(i % 4) * 60, Math.floor(i / 4) * 100, 7]).flat(),
    );
    const small = resizeBilinear(img, 2, 2);
    expect(Array.from(small)).toEqual([0, 0, 7, 180, 0, 7, 0, 200, 7, 180, 200, 7]);
  });

  it('refuses inconsistent sizes', () => {
    expect(() => resizeBilinear({ width: 2, height: 2, data: new Uint8Array(15) }, 2, 2)).toThrow(RangeError);
    expect(() => resizeBilinear(rgba(1, 1, () => [0, 0, 0, 0]), 0, 2)).toThrow(RangeError);
  });

  it('computes what nsfwjs computes: tf.image.resizeBilinear(x / 255, alignCorners = true)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (w, h, ow, oh, seed) => {
          let s = seed;
          const next = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) & 0xff;
          const img = rgba(w, h, () => [next(), next(), next(), 255]);
          const ours = normalise(resizeBilinear(img, ow, oh));
          const theirs = tf.tidy(() => {
            const rgb = tf.tensor3d(img.data, [h, w, 4], 'int32').slice([0, 0, 0], [h, w, 3]);
            return tf.image.resizeBilinear(rgb.toFloat().div<tf.Tensor3D>(255), [oh, ow], true).dataSync();
          });
          expect(ours).toHaveLength(theirs.length);
          ours.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThan(1e-6));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('normalise and toInputTensorData', () => {
  it('divides by 255 into [0, 1] in NHWC order', () => {
    const v = normalise(new Float32Array([0, 255, 127.5]));
    expect(Array.from(v)).toEqual([0, 1, Math.fround(0.5)]);
    const t = toInputTensorData(rgba(1, 1, () => [255, 0, 51, 255]), 2);
    expect(t.shape).toEqual([1, 2, 2, 3]);
    expect(Array.from(t.data)).toEqual([1, 0, Math.fround(0.2), 1, 0, Math.fround(0.2), 1, 0, Math.fround(0.2), 1, 0, Math.fround(0.2)]);
  });
});
