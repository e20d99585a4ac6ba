import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import { decodeImage } from './image';
import { ImageDecodeError } from './pixels';

const DEFAULTS = { maxPixels: 1e7 };

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A minimal PNG encoder for cases pngjs cannot write: palettes, low bit depths, interlacing. */
function encodePng(opts: {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  /** Scanlines without filter bytes, one array per Adam7 pass (or one for non-interlaced). */
  passes: Uint8Array[][];
  interlaced?: boolean;
  extra?: Buffer[];
}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(opts.width, 0);
  ihdr.writeUInt32BE(opts.height, 4);
  ihdr[8] = opts.depth;
  ihdr[9] = opts.colorType;
  ihdr[12] = opts.interlaced ? 1 : 0;
  const raw = Buffer.concat(opts.passes.flat().map((line) => Buffer.concat([Buffer.from([0]), line])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(opts.extra ?? []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

describe('PNG decoding agrees with pngjs', () => {
  const image = fc
    .record({ width: fc.integer({ min: 1, max: 40 }), height: fc.integer({ min: 1, max: 40 }), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }) })
    .map(({ width, height, seed }) => {
      let s = seed;
      const data = Buffer.alloc(width * height * 4);
      for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 16;
      return { width, height, data };
    });

  it('for grey, grey+alpha, RGB and RGBA at 8 and 16 bits, with every filter pngjs picks', async () => {
    await fc.assert(
      fc.asyncProperty(image, fc.constantFrom(0, 2, 4, 6), fc.constantFrom(8, 16), async (img, colorType, bitDepth) => {
        const png = new PNG({ width: img.width, height: img.height });
        png.data = img.data;
        const bytes = PNG.sync.write(png, { colorType, bitDepth, inputColorType: 6 });
        const expected = PNG.sync.read(bytes);
        const ours = await decodeImage(new Uint8Array(bytes), DEFAULTS);
        expect(ours.width).toBe(expected.width);
        expect(ours.height).toBe(expected.height);
        expect(Buffer.from(ours.data).equals(expected.data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('for Adam7-interlaced RGB images', async () => {
    await fc.assert(
      fc.asyncProperty(image, async (img) => {
        const { width, height, data } = img;
        const passes = ADAM7.map(([x0, y0, dx, dy]) => {
          const lines: Uint8Array[] = [];
          for (let y = y0; y < height; y += dy) {
            const line: number[] = [];
            for (let x = x0; x < width; x += dx) line.push(...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 3));
            if (line.length > 0) lines.push(Uint8Array.from(line));
          }
          return lines;
        });
        const bytes = encodePng({ width, height, depth: 8, colorType: 2, passes, interlaced: true });
        const expected = PNG.sync.read(bytes);
        const ours = await decodeImage(new Uint8Array(bytes), DEFAULTS);
        expect(Buffer.from(ours.data).equals(expected.data)).toBe(true);
        for (let i = 0; i < width * height; i++) expect(ours.data[i * 4]).toBe(data[i * 4]);
      }),
      { numRuns: 30 },
    );
  });
});

describe('PNG decoding, other layouts', () => {
  it('reads 2-bit palette images with transparency', async () => {
    const palette = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
    const trns = Buffer.from([128, 0]);
    // 3x2 pixels, indices 0 1 2 / 3 0 1, packed 4 per byte, high bits first.
    const lines = [Uint8Array.from([0b00011000]), Uint8Array.from([0b11000100])];
    const bytes = encodePng({ width: 3, height: 2, depth: 2, colorType: 3, passes: [lines], extra: [chunk('PLTE', palette), chunk('tRNS', trns)] });
    const img = await decodeImage(new Uint8Array(bytes), DEFAULTS);
    expect(Array.from(img.data)).toEqual([255, 0, 0, 128, 0, 255, 0, 0, 0, 0, 255, 255, 9, 9, 9, 255, 255, 0, 0, 128, 0, 255, 0, 0]);
  });

  it('rescales 1-bit and 4-bit grey to 0..255', async () => {
    const one = encodePng({ width: 3, height: 1, depth: 1, colorType: 0, passes: [[Uint8Array.from([0b10100000])]] });
    expect(Array.from((await decodeImage(new Uint8Array(one), DEFAULTS)).data)).toEqual([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255]);
    const four = encodePng({ width: 2, height: 1, depth: 4, colorType: 0, passes: [[Uint8Array.from([0x5f])]] });
    expect(Array.from((await decodeImage(new Uint8Array(four), DEFAULTS)).data)).toEqual([85, 85, 85, 255, 255, 255, 255, 255]);
  });
});

describe('PNG errors', () => {
  const good = (): Buffer => encodePng({ width: 2, height: 2, depth: 8, colorType: 0, passes: [[Uint8Array.from([1, 2]), Uint8Array.from([3, 4])]] });

  it('refuses truncated, corrupt and oversized images with ImageDecodeError', async () => {
    const bytes = good();
    await expect(decodeImage(new Uint8Array(bytes.subarray(0, 30)), DEFAULTS)).rejects.toThrow(ImageDecodeError);
    const corrupt = Buffer.from(bytes);
    const idat = corrupt.indexOf('IDAT');
    corrupt.fill(0xaa, idat + 4, idat + 12);
    await expect(decodeImage(new Uint8Array(corrupt), DEFAULTS)).rejects.toThrow(/invalid PNG/);
    const huge = Buffer.from(bytes);
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    await expect(decodeImage(new Uint8Array(huge), DEFAULTS)).rejects.toThrow(/more than the limit/);
  });

  it('refuses image data shorter than the header promises', async () => {
    const short = encodePng({ width: 2, height: 3, depth: 8, colorType: 0, passes: [[Uint8Array.from([1, 2])]] });
    await expect(decodeImage(new Uint8Array(short), DEFAULTS)).rejects.toThrow(/expected/);
  });

  it('refuses an unknown filter type', async () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0);
    ihdr.writeUInt32BE(1, 4);
    ihdr[8] = 8;
    const bytes = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.from([9, 7]))),
      chunk('IEND', new Uint8Array(0)),
    ]);
    await expect(decodeImage(new Uint8Array(bytes), DEFAULTS)).rejects.toThrow(/filter type 9/);
  });
});
