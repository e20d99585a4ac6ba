import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decode as decodeJpegJs } from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage, sniffImageFormat } from './image';
import { ImageDecodeError } from './pixels';

const dir = path.join(__dirname, '..', '..', 'assets', 'images');
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
  images: { file: string; format: 'jpeg' | 'png'; width: number; height: number; bytes: number; sha256: string }[];
};

describe('the shipped test images', () => {
  it('are 3 to 6 small files matching their manifest', () => {
    expect(manifest.images.length).toBeGreaterThanOrEqual(3);
    expect(manifest.images.length).toBeLessThanOrEqual(6);
    for (const img of manifest.images) {
      const bytes = readFileSync(path.join(dir, img.file));
      expect(bytes.length).toBe(img.bytes);
      expect(bytes.length).toBeLessThan(100 * 1024);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(img.sha256);
    }
  });

  it.each(manifest.images.map((m) => [m.file, m] as const))('%s decodes to its size and the reference pixels', async (_file, m) => {
    const bytes = new Uint8Array(readFileSync(path.join(dir, m.file)));
    expect(sniffImageFormat(bytes)).toBe(m.format);
    const img = await decodeImage(bytes);
    expect([img.width, img.height]).toEqual([m.width, m.height]);
    const reference = m.format === 'jpeg' ? decodeJpegJs(bytes, { useTArray: true, formatAsRGBA: true }).data : PNG.sync.read(Buffer.from(bytes)).data;
    expect(Buffer.from(img.data).equals(Buffer.from(reference))).toBe(true);
  });
});

describe('decodeImage', () => {
  it('refuses bytes that are neither JPEG nor PNG', async () => {
    await expect(decodeImage(new TextEncoder().encode('definitely not an image'))).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(new Uint8Array(0))).rejects.toThrow('not a JPEG or PNG image');
  });

  it('refuses a JPEG header followed by garbage', async () => {
    const bytes = new Uint8Array(200).fill(0x41);
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    await expect(decodeImage(bytes)).rejects.toThrow(/invalid JPEG/);
  });

  it('refuses a JPEG with more pixels than allowed', async () => {
    const bytes = new Uint8Array(readFileSync(path.join(dir, 'landscape.jpg')));
    await expect(decodeImage(bytes, { maxPixels: 1000 })).rejects.toThrow(ImageDecodeError);
  });
});
