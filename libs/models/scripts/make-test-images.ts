// Draws the library's test images (synthetic, no external source) and writes their manifest.
// Deterministic: running it again rewrites byte-identical files.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { testImagesDir } from '../src/node/paths';

type Rgba = [number, number, number, number];
type Painter = (x: number, y: number, w: number, h: number) => Rgba;

interface ImageDef {
  file: string;
  width: number;
  height: number;
  description: string;
  paint: Painter;
  /** JPEG quality, or PNG colour type (0 grey, 2 RGB, 6 RGBA). */
  encoding: { format: 'jpeg'; quality: number } | { format: 'png'; colorType: 0 | 2 | 6 };
}

const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));

const IMAGES: ImageDef[] = [
  {
    file: 'gradient.jpg',
    width: 224,
    height: 224,
    description: 'red to blue left to right, green rising top to bottom; already at the MobileNet input size',
    encoding: { format: 'jpeg', quality: 90 },
    paint: (x, y, w, h) => [clamp((255 * (w - 1 - x)) / (w - 1)), clamp((255 * y) / (h - 1)), clamp((255 * x) / (w - 1)), 255],
  },
  {
    file: 'landscape.jpg',
    width: 400,
    height: 300,
    description: 'a sky gradient, a yellow sun disc and green sine-wave hills',
    encoding: { format: 'jpeg', quality: 85 },
    paint: (x, y, w, h) => {
      const hill = h * 0.62 + Math.sin((x / w) * Math.PI * 3) * h * 0.08;
      if (y > hill) return [clamp(40 + (y - hill) * 0.3), clamp(140 - (y - hill) * 0.4), 50, 255];
      const dx = x - w * 0.75;
      const dy = y - h * 0.22;
      if (dx * dx + dy * dy < (h * 0.09) ** 2) return [250, 220, 60, 255];
      const t = y / hill;
      return [clamp(90 + 110 * t), clamp(150 + 80 * t), 240, 255];
    },
  },
  {
    file: 'checker.jpg',
    width: 320,
    height: 320,
    description: 'an 8x8 checkerboard of black and white with one red and one blue square (high-frequency edges)',
    encoding: { format: 'jpeg', quality: 90 },
    paint: (x, y) => {
      const cx = Math.floor(x / 40);
      const cy = Math.floor(y / 40);
      if (cx === 2 && cy === 5) return [220, 30, 30, 255];
      if (cx === 6 && cy === 1) return [30, 60, 220, 255];
      return (cx + cy) % 2 === 0 ? [240, 240, 240, 255] : [15, 15, 15, 255];
    },
  },
  {
    file: 'shapes.png',
    width: 256,
    height: 192,
    description: 'RGBA: a red disc, a blue square and a green triangle on a fully transparent background',
    encoding: { format: 'png', colorType: 6 },
    paint: (x, y) => {
      if ((x - 64) ** 2 + (y - 64) ** 2 < 40 ** 2) return [220, 40, 40, 255];
      if (x >= 130 && x < 210 && y >= 30 && y < 110) return [40, 70, 210, 255];
      if (y >= 120 && y < 180 && Math.abs(x - 128) < (y - 120) * 0.9) return [40, 170, 60, 200];
      return [0, 0, 0, 0];
    },
  },
  {
    file: 'rings.png',
    width: 160,
    height: 120,
    description: 'greyscale (colour type 0) concentric rings, smaller than both model inputs (upscaled)',
    encoding: { format: 'png', colorType: 0 },
    paint: (x, y, w, h) => {
      const r = Math.hypot(x - w / 2, y - h / 2);
      const g = clamp(127.5 + 127.5 * Math.cos(r / 4));
      return [g, g, g, 255];
    },
  },
];

function render(def: ImageDef): Buffer {
  const data = Buffer.alloc(def.width * def.height * 4);
  for (let y = 0; y < def.height; y++) {
    for (let x = 0; x < def.width; x++) {
      data.set(def.paint(x, y, def.width, def.height), (y * def.width + x) * 4);
    }
  }
  if (def.encoding.format === 'jpeg') {
    return encodeJpeg({ width: def.width, height: def.height, data }, def.encoding.quality).data;
  }
  const png = new PNG({ width: def.width, height: def.height });
  png.data = data;
  return PNG.sync.write(png, { colorType: def.encoding.colorType, inputColorType: 6 });
}

function main(): void {
  const dir = testImagesDir();
  const manifest = IMAGES.map((def) => {
    const bytes = render(def);
    writeFileSync(path.join(dir, def.file), bytes);
    return {
      file: def.file,
      format: def.encoding.format,
      width: def.width,
      height: def.height,
      encoding: def.encoding,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      description: def.description,
    };
  });
  const doc = {
    generator: 'libs/models/scripts/make-test-images.ts',
    provenance: 'synthetic: drawn pixel by pixel by the generator, encoded with jpeg-js 0.4 and pngjs 7; no photographs',
    images: manifest,
  };
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  for (const m of manifest) console.log(`${m.file.padEnd(14)} ${m.width}x${m.height} ${m.bytes} B`);
}

main();
